/**
 * @module GET /me/{token}: everything held about the person (GDPR Art. 15): profile, consents with the
 * exact wording and their history, their requests, and what Mautic holds; and the downloads (Art. 20)
 * /me/{token}/export.json and .csv. Opening the page completes the access request; a download records
 * (once per link) an export request, completed as it is served.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  completeSelfServiceQuery,
  derivedDsrId,
  selfServiceDsrQuery,
} from '../../domain/rights/dsr.ts'
import { collectPersonalData, type PersonalData } from '../../domain/rights/data-export.ts'
import { personalDataCsv } from '../../domain/rights/data-export-csv.ts'
import { mauticHoldings, type MauticHoldings } from '../../domain/rights/mautic-data.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { evidenceLines, formatDate, withAccess, type AccessContext } from './me-shared.ts'

const DONE = ['corrected', 'objected', 'email-sent', 'email-throttled', 'unchanged'] as const

/** A label from the locale files, or the raw value when there is none (a method added later). */
const label = (locale: Locale, prefix: string, value: string) => {
  const key = `${prefix}.${value}`
  const text = t(locale, key)
  return text === key ? value : text
}

export function meDataRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  async function view(locale: Locale, data: PersonalData, mautic: MauticHoldings) {
    const purposes = await loadPurposes(deps.db, deps.clock.now())
    const title = (key: string) => purposes.get(key)?.current[locale]?.title ?? key
    const date = (v: string | null) => formatDate(locale, v)
    return {
      profile: {
        email: data.profile.email,
        language: t(locale, `me.language.${data.profile.locale}`),
        since: date(data.profile.created_at),
        objectedAt: date(data.profile.objected_to_marketing_at),
        attributes: Object.entries(data.profile.attributes).map(([name, value]) => ({
          name: label(locale, 'me.field', name),
          value,
        })),
      },
      consents: data.consents.map((c) => ({
        title: title(c.purpose),
        status: label(locale, 'me.status', c.status),
        changedAt: date(c.changed_at),
        notice: c.notice,
      })),
      history: data.history.map((e) => ({
        when: date(e.occurred_at),
        title: title(e.purpose),
        action: label(locale, 'me.action', e.action),
        method: label(locale, 'me.method', e.method),
        source: e.source,
        notice: e.notice,
        evidence: evidenceLines(locale, e.evidence),
        evidenceErased: e.evidence_erased,
      })),
      requests: data.requests.map((r) => ({
        kind: label(locale, 'me.dsr', r.kind),
        receivedAt: date(r.receivedAt),
        dueAt: date(r.dueAt),
        completedAt: date(r.completedAt),
      })),
      mautic:
        mautic.status === 'not_connected'
          ? null
          : {
              unavailable: mautic.status === 'unavailable',
              records: mautic.status === 'ok' ? mautic.records : [],
              empty: mautic.status === 'ok' && mautic.records.length === 0,
            },
    }
  }

  async function download(c: Context, kind: 'json' | 'csv') {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const data = await collectPersonalData(deps, access.contact)
    // Art. 20 served: one export request per access link, however many downloads.
    await deps.atomic(
      selfServiceDsrQuery(deps, {
        id: derivedDsrId(access.requestId, 'export'),
        contactId: access.contact.id,
        kind: 'export',
        completed: true,
        details: { access_request: access.requestId },
      }).queries,
    )
    const day = data.generated_at.slice(0, 10)
    c.header('Content-Disposition', `attachment; filename="my-data-${day}.${kind}"`)
    if (kind === 'json') return c.json(data)
    c.header('Content-Type', 'text/csv; charset=utf-8')
    return c.body(personalDataCsv(data))
  }

  async function dataPage(c: Context, access: AccessContext) {
    const locale = pageLocale(c, access.contact.locale)
    // Art. 15 served: the request completes the first time its page opens.
    await deps.atomic([completeSelfServiceQuery(deps, access.requestId)])
    const [data, mautic] = await Promise.all([
      collectPersonalData(deps, access.contact),
      mauticHoldings(deps, access.contact.id),
    ])
    const done = DONE.find((d) => d === c.req.query('done'))
    return page(c, site, 'public/me', {
      locale,
      titleKey: 'me.title',
      data: {
        links: {
          json: `${access.base}/export.json`,
          csv: `${access.base}/export.csv`,
          correct: `${access.base}/correct?lang=${locale}`,
          object: `${access.base}/object?lang=${locale}`,
          erase: `${access.base}/erase?lang=${locale}`,
        },
        done: done ? t(locale, `me.done.${done}`) : null,
        ...(await view(locale, data, mautic)),
      },
    })
  }

  return new Hono()
    .get('/:token/export.json', (c) => download(c, 'json'))
    .get('/:token/export.csv', (c) => download(c, 'csv'))
    .get('/:token', async (c) => {
      const access = await withAccess(deps, site, c)
      return access instanceof Response ? access : dataPage(c, access)
    })
}
