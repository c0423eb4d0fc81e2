/** @module Renders the precompiled templates (views/) with handlebars/runtime: same path on Node and Workers. */
import { assets, hb, templates } from '../generated/views.ts'
import { t, type Locale } from './i18n.ts'

export interface SiteInfo {
  name: string
  logoUrl?: string
  privacyUrl?: string
}

/** The envelope every page gets (listmonk's tplData): page data lives under `data`. */
export interface PageEnvelope<D = Record<string, unknown>> {
  locale: Locale
  title: string
  site: SiteInfo
  /** The same page in the other language (the switch in the header). */
  switchLocale: Locale
  switchUrl: string
  csrfToken?: string
  data: D
}

interface HelperOptions {
  hash: Record<string, unknown>
  data: { root: { locale: Locale } }
}

hb.registerHelper('t', (key: string, options: HelperOptions) =>
  t(options.data.root.locale, key, options.hash),
)
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b)

export function hasView(name: string): boolean {
  return name in templates
}

export function renderView(name: string, context: object): string {
  const template = (templates as Record<string, (ctx: object) => string>)[name]
  if (!template) throw new Error(`unknown view "${name}"`)
  return template(context)
}

/** Renders a page, filling the envelope's optional keys so strict templates can test them. */
export function renderPage<D>(name: string, envelope: PageEnvelope<D>): string {
  const site = { logoUrl: undefined, privacyUrl: undefined, ...envelope.site }
  return renderView(name, { csrfToken: undefined, ...envelope, site })
}

/** The escaping `{{ }}` applies in templates, for text put into rendered HTML afterwards. */
export const escapeExpression = (text: string): string => hb.Utils.escapeExpression(text)

export function asset(name: string): string | undefined {
  return (assets as Record<string, string>)[name]
}
