/**
 * A browser's part in the console, inside workerd: requests to the Worker (SELF) with the session
 * cookie it set kept between them, forms posted from the gateway's own origin, and the CSRF token a
 * page's form carries.
 */
import { SELF } from 'cloudflare:test'

export const ORIGIN = 'https://gateway.test'

export function consoleClient() {
  let cookie = ''
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const res = await SELF.fetch(`${ORIGIN}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie ? { Cookie: cookie } : {}),
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    const m = /__Host-session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')
    if (m) cookie = m[1] ? `__Host-session=${m[1]}` : ''
    return res
  }
  return {
    call,
    get: (path: string) => call('GET', path),
    post: (path: string, form: Record<string, string>) => call('POST', path, form),
    csrf: async (path: string) =>
      /name="_csrf" value="([^"]+)"/.exec(await (await call('GET', path)).text())![1]!,
  }
}
