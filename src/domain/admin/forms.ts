/**
 * @module The hosted opt-in forms (/subscribe/{form}, README "Collecting and proving consent"): which
 * purposes each offers and the wording (notice version) it shows per language, the link a website
 * puts on its pages, and creating or changing a form. Its page sets `frame-ancestors 'none'` and
 * refuses posts from other sites, so a website links to it rather than framing or posting to it.
 */
import { listForms, upsertForm } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { LOCALES, type Locale } from '../../lib/i18n.ts'
import { loadPurposes } from '../consent/purposes.ts'
import type { Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'

export interface HostedForm {
  key: string
  url: string
  purposes: {
    key: string
    /** The version each language shows now (null: none published, the box is not shown). */
    versions: Record<Locale, number | null>
    titles: Record<Locale, string | null>
  }[]
  /** The HTML a website adds to link to it, per language. */
  snippets: Record<Locale, string>
}

export async function hostedForms(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
): Promise<HostedForm[]> {
  const [forms, purposes] = await Promise.all([
    listForms(deps.db),
    loadPurposes(deps.db, deps.clock.now()),
  ])
  return forms.map((f) => {
    const url = `${deps.config.publicUrl}/subscribe/${f.key}`
    return {
      key: f.key,
      url,
      purposes: (JSON.parse(f.purposes) as string[]).map((key) => {
        const p = purposes.get(key)
        return {
          key,
          versions: Object.fromEntries(
            LOCALES.map((l) => [l, p?.current[l]?.version ?? null]),
          ) as Record<Locale, number | null>,
          titles: Object.fromEntries(
            LOCALES.map((l) => [l, p?.current[l]?.title ?? null]),
          ) as Record<Locale, string | null>,
        }
      }),
      snippets: {
        fr: `<a href="${url}?lang=fr" rel="noopener">Recevoir nos nouvelles</a>`,
        en: `<a href="${url}?lang=en" rel="noopener">Get our news</a>`,
      },
    }
  })
}

export type FormResult =
  { ok: true } | { ok: false; code: 'invalid_key' | 'unknown_purpose' | 'no_purpose' }

/** Creates a hosted form, or changes the purposes it offers (in the order given). */
export async function saveHostedForm(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'sha256'>,
  key: string,
  purposeKeys: string[],
  by: Actor & { reason: string },
): Promise<FormResult> {
  if (!/^[a-z0-9_-]{1,64}$/.test(key)) return { ok: false, code: 'invalid_key' }
  const keys = [...new Set(purposeKeys)]
  if (keys.length === 0) return { ok: false, code: 'no_purpose' }
  const purposes = await loadPurposes(deps.db, deps.clock.now())
  if (keys.some((k) => !purposes.has(k))) return { ok: false, code: 'unknown_purpose' }
  await upsertForm(deps.db, key, keys, deps.clock.now())
  await recordAudit(deps, {
    ...by,
    action: 'form.save',
    target: `form:${key}`,
    details: { purposes: keys, reason: by.reason },
  })
  return { ok: true }
}
