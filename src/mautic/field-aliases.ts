/**
 * @module The alias of each purpose's consent field in Mautic. Mautic cleans every new field alias
 * and cuts it to 25 characters (LeadBundle/Helper/FieldAliasHelper.php, `cleanAlias($alias, 'f_', 25)`
 * in CoreBundle/Model/FormModel.php), then appends 1, 2… when it is taken: `consent_push_notifications`
 * would become `consent_push_notification`, and the mirror would write an alias Mautic drops. So the
 * alias asked for already fits (deterministic, unique per key), and the one Mautic answered with is
 * kept (mautic_fields) and used from then on.
 */
import { storedFieldAliases } from '../db/repositories/mautic-setup.ts'
import type { DB } from '../db/database.ts'

/** Mautic's limit on a new field alias (FieldAliasHelper::makeAliasUnique). */
export const MAUTIC_ALIAS_MAX = 25
const HASH_CHARS = 6

/** FNV-1a (32 bits): a stable, dependency-free digest for the suffix; not a security measure. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/**
 * `consent_<key>` when it fits Mautic's rules as it is (lower-case letters, digits and `_`, at most 25
 * characters, no trailing `_`); otherwise its first characters, `_` and 6 characters of a digest of
 * the whole key, so that two long keys with the same beginning never share an alias.
 * @example consentFieldAlias('newsletter') // 'consent_newsletter'
 */
export function consentFieldAlias(purposeKey: string): string {
  const full = `consent_${purposeKey}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
  if (full.length <= MAUTIC_ALIAS_MAX && !full.endsWith('_')) return full
  const digest = fnv1a(purposeKey).toString(36).padStart(HASH_CHARS, '0').slice(-HASH_CHARS)
  const head = full.slice(0, MAUTIC_ALIAS_MAX - HASH_CHARS - 1).replace(/_+$/, '')
  return `${head}_${digest}`
}

/** The alias to read and write for each purpose key: the one Mautic gave, else the one asked for. */
export async function fieldAliases(db: DB, keys: readonly string[]): Promise<Map<string, string>> {
  const stored = await storedFieldAliases(db)
  return new Map(keys.map((k) => [k, stored.get(k) ?? consentFieldAlias(k)]))
}
