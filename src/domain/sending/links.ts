/**
 * @module The links every marketing e-mail carries: unsubscribe (one purpose, RFC 8058 one-click)
 * and preference center. Tokens hold an opaque contact id and the purpose, never the address. They
 * are stable for a calendar month (issued at its start, valid 13 months after its end, so always
 * more than a year): the same contact gets the same link all month, and links are cached, not
 * signed per mail (jose's signing rate would cap sending at two tokens per mail: bench/results.md,
 * "Measurements behind design choices").
 */
import type { Deps } from '../../deps.ts'
import { signLinkToken, verifyLinkToken, type VerifiedToken } from '../platform/link-tokens.ts'
import { mailtoFor } from '../../mail/inject.ts'
import { mailtoToken } from './mailto-tokens.ts'

const CACHE_MAX = 20_000
const caches = new WeakMap<object, Map<string, string>>()

/** Start of the UTC month of `now`, and 13 months after the end of that month. */
export function monthWindow(now: number): { issuedAt: number; expiresAt: number } {
  const d = new Date(now)
  const issuedAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  const expiresAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 14, 1)
  return { issuedAt, expiresAt }
}

function cachedToken(
  deps: Pick<Deps, 'keys' | 'clock'>,
  aud: 'unsubscribe' | 'preferences',
  contactId: string,
  purpose: string | undefined,
): string {
  const { issuedAt, expiresAt } = monthWindow(deps.clock.now())
  let cache = caches.get(deps.keys)
  if (!cache) caches.set(deps.keys, (cache = new Map()))
  const key = `${aud}|${contactId}|${purpose ?? ''}|${issuedAt}`
  let token = cache.get(key)
  if (!token) {
    const claims = purpose === undefined ? { sub: contactId } : { sub: contactId, p: purpose }
    token = signLinkToken(deps.keys, aud, claims, expiresAt, issuedAt)
    cache.set(key, token)
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!)
  }
  return token
}

export function unsubscribeUrl(
  deps: Pick<Deps, 'keys' | 'clock' | 'config'>,
  contactId: string,
  purpose: string,
): string {
  return `${deps.config.publicUrl}/u/${cachedToken(deps, 'unsubscribe', contactId, purpose)}`
}

export function preferencesUrl(
  deps: Pick<Deps, 'keys' | 'clock' | 'config'>,
  contactId: string,
): string {
  return `${deps.config.publicUrl}/p/${cachedToken(deps, 'preferences', contactId, undefined)}`
}

const readLinkToken = (
  deps: Pick<Deps, 'keys' | 'clock'>,
  token: string,
  aud: 'unsubscribe' | 'preferences',
) => verifyLinkToken(deps.keys, token, aud, deps.clock.now())

/** An unsubscribe token: the contact and the purpose it unsubscribes from. */
export function readUnsubscribeToken(
  deps: Pick<Deps, 'keys' | 'clock'>,
  token: string,
): VerifiedToken & { purpose?: string } {
  const verified = readLinkToken(deps, token, 'unsubscribe')
  if (verified.status === 'invalid' || typeof verified.claims.p !== 'string')
    return { status: 'invalid' }
  return { ...verified, purpose: verified.claims.p }
}

/** A preference-center token: the contact it belongs to. Expired links are not accepted here. */
export function readPreferencesToken(
  deps: Pick<Deps, 'keys' | 'clock'>,
  token: string,
): string | null {
  const verified = readLinkToken(deps, token, 'preferences')
  return verified.status === 'valid' ? verified.claims.sub : null
}

const hosts = new WeakMap<object, string>()

/**
 * The List-Id (RFC 2919) of a purpose's mail, `purpose.host-of-PUBLIC_URL` (listHeadersFor cleans it),
 * the host parsed once per configuration, not per mail.
 */
export function purposeListId(config: Deps['config'], purpose: string): string {
  let host = hosts.get(config)
  if (host === undefined) hosts.set(config, (host = new URL(config.publicUrl).hostname))
  return `${purpose}.${host}`
}

/**
 * The `mailto:` for List-Unsubscribe when UNSUBSCRIBE_MAILTO is configured (its mail reaches the
 * relay's listener, which withdraws): `mailto:unsubscribe+TOKEN@domain?subject=unsubscribe`.
 */
export async function unsubscribeMailto(
  deps: Pick<Deps, 'keys' | 'hmac' | 'sha256' | 'config'>,
  contactId: string,
  purpose: string,
): Promise<string | undefined> {
  const address = deps.config.mail.unsubscribeMailto
  if (!address) return undefined
  return mailtoFor(address, await mailtoToken(deps, contactId, purpose))
}
