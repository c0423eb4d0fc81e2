/** @module The stylesheet (served from our own host: the CSP allows nothing else) and a small home page. */
import { Hono } from 'hono'
import type { Deps } from '../deps.ts'
import { messagePage } from '../lib/http-errors.ts'
import { asset } from '../lib/views.ts'
import { siteInfo } from '../lib/site.ts'

export function siteRoutes(deps: Deps) {
  const css = asset('site.css') ?? ''
  return new Hono()
    .get('/assets/site.css', (c) => {
      c.header('Content-Type', 'text/css; charset=utf-8')
      c.header('Cache-Control', 'public, max-age=3600')
      return c.body(css)
    })
    .get('/', (c) =>
      messagePage(c, siteInfo(deps.config), 200, 'home.title', 'home.body', {
        params: { org: deps.config.org.name },
      }),
    )
}
