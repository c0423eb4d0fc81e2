/**
 * @module The record of processing activities (GDPR Art. 30(1)) as a page to print or save as PDF
 * (the console's print styles leave out navigation and forms), and its JSON and CSV downloads in the
 * page's language: all three from `recordOfProcessing` (src/domain/compliance/record.ts).
 */
import type { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { recordCsv, recordOfProcessing } from '../../domain/compliance/record.ts'
import { t } from '../../lib/i18n.ts'
import { adminLocale, guard } from './context.ts'
import { audit, compliancePage, day, labelOf, when } from './compliance-shared.ts'

export function recordRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/compliance/record', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const record = await recordOfProcessing(deps, locale)
    const list = (items: string[]) => (items.length ? items.join(', ') : '—')
    return compliancePage(deps, c, 'record', {
      titleKey: 'admin.compliance.record.title',
      data: {
        record: {
          generatedAt: when(record.generated_at, locale),
          controller: record.controller,
          unconfirmed: record.unconfirmed_fields,
          security: record.security_measures,
          activities: record.activities.map((a) => ({
            purpose: a.purpose,
            consent: a.consent_purpose
              ? t(locale, 'admin.compliance.record.consentPurpose', {
                  channel: a.consent_purpose.channel,
                  optin: t(
                    locale,
                    a.consent_purpose.double_opt_in
                      ? 'admin.compliance.record.doubleOptIn'
                      : 'admin.compliance.record.singleOptIn',
                  ),
                })
              : null,
            bases: list(a.legal_bases.map((b) => t(locale, `compliance.basis.${b}`))),
            subjects: a.data_subjects,
            categories: list(a.data_categories.map((x) => t(locale, `compliance.category.${x}`))),
            special: a.special_categories.map((s) => ({
              field: s.field,
              condition: s.condition ?? t(locale, 'admin.compliance.record.noCondition'),
              missing: s.condition === null,
            })),
            fields: a.fields.map((f) => ({
              name: f.name,
              label: f.label,
              category: labelOf(locale, 'compliance.category', f.category),
            })),
            recipients: a.recipients.map((r) => ({
              name: r.name,
              role: t(locale, `admin.compliance.role.${r.role}`),
              country: r.country,
              contract: r.contract_signed_at
                ? t(locale, 'admin.compliance.record.contract', {
                    date: day(r.contract_signed_at, locale),
                  })
                : t(locale, 'admin.compliance.record.noContract'),
            })),
            transfers: a.transfers.map((x) => ({
              processor: x.processor,
              country: x.country,
              basis: labelOf(locale, 'admin.compliance.transfer', x.basis),
              missing: x.basis === null,
            })),
            retention: list(
              a.retention_days.map((d) => t(locale, 'compliance.record.days', { days: d })),
            ),
          })),
        },
      },
    })
  })

  for (const format of ['json', 'csv'] as const)
    guard(deps, app, 'GET', `/compliance/record.${format}`, 'compliance.read', async (c) => {
      const locale = adminLocale(c)
      const record = await recordOfProcessing(deps, locale)
      await audit(deps, c, 'compliance.record.export', null, { format, locale })
      c.header(
        'Content-Disposition',
        `attachment; filename="record-of-processing-${locale}.${format}"`,
      )
      if (format === 'json') return c.json(record)
      c.header('Content-Type', 'text/csv; charset=utf-8')
      return c.body(recordCsv(record))
    })
}
