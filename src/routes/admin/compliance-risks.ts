/**
 * @module The risk report screen (step 1 "map your data and its risks"; GDPR Art. 5(2), 9, 28, 44):
 * the findings of src/domain/compliance/risks.ts by severity, each said in words with a link to
 * what puts it right, the counts of open ones, closed ones as history, and a button that runs the
 * scan now (it also runs after every change and with the scheduled jobs).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  listRisks,
  refreshRisks,
  RISK_KINDS,
  riskSummary,
  SEVERITIES,
  type RiskView,
} from '../../domain/compliance/risks.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { adminLocale, guard } from './context.ts'
import { audit, compliancePage, isOneOf, when } from './compliance-shared.ts'

const STATUSES = ['open', 'closed', 'all'] as const

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')

/** One finding in words: what it is about, and where to put it right. */
export function riskLine(r: RiskView, locale: Locale) {
  const d = r.details
  let about = ''
  let href: string | null = null
  if (r.kind.startsWith('field_') || r.kind === 'special_category' || r.kind === 'free_text') {
    about = t(locale, 'admin.compliance.risks.aboutField', {
      field: str(d.field),
      source: t(locale, `admin.compliance.source.${str(d.source) || 'manual'}`),
    })
    href = `/admin/compliance/fields/${r.subject}`
  } else if (r.kind.startsWith('processor_') || r.kind === 'transfer_without_basis') {
    about = t(locale, 'admin.compliance.risks.aboutProcessor', {
      processor: str(d.processor),
      country: str(d.country),
    })
    href = `/admin/compliance/processors/${r.subject}`
  } else if (r.kind === 'contacts_without_proof') {
    about = t(locale, 'admin.compliance.risks.aboutContacts', { count: str(d.contacts) })
  } else if (r.kind === 'purpose_without_notice') {
    const missing = Array.isArray(d.missing) ? d.missing.map(str).join(', ') : ''
    about = t(locale, 'admin.compliance.risks.aboutPurpose', { purpose: str(d.purpose), missing })
    href = '/admin/purposes'
  }
  return {
    id: r.id,
    severity: r.severity,
    severityLabel: t(locale, `admin.compliance.severity.${r.severity}`),
    kind: t(locale, `admin.compliance.risk.${r.kind}`),
    fix: t(locale, `admin.compliance.fix.${r.kind}`),
    about,
    href,
    open: r.status === 'open',
    openedAt: when(r.opened_at, locale),
    closedAt: when(r.closed_at, locale),
  }
}

export function riskRoutes(deps: Deps, app: Hono) {
  const page = async (c: Context, notice: string | null = null) => {
    const locale = adminLocale(c)
    const q = (k: string) => c.req.query(k) ?? ''
    const filter = {
      status: isOneOf(q('status'), STATUSES) ? q('status') : 'open',
      severity: isOneOf(q('severity'), SEVERITIES) ? q('severity') : '',
      kind: isOneOf(q('kind'), RISK_KINDS) ? q('kind') : '',
    }
    const [findings, summary] = await Promise.all([
      listRisks(deps, {
        status: filter.status as (typeof STATUSES)[number],
        severity: (filter.severity || undefined) as RiskView['severity'] | undefined,
        kind: filter.kind || undefined,
      }),
      riskSummary(deps),
    ])
    const option = (prefix: string, values: readonly string[], selected: string) =>
      values.map((v) => ({
        value: v,
        label: t(locale, `${prefix}.${v}`),
        selected: v === selected,
      }))
    return compliancePage(deps, c, 'risks', {
      titleKey: 'admin.compliance.risks.title',
      data: {
        summary: SEVERITIES.map((s) => ({
          severity: s,
          label: t(locale, `admin.compliance.severity.${s}`),
          count: summary[s],
        })),
        findings: findings.map((r) => riskLine(r, locale)),
        statuses: option('admin.compliance.risks.status', STATUSES, filter.status),
        severities: option('admin.compliance.severity', SEVERITIES, filter.severity),
        kinds: option('admin.compliance.risk', RISK_KINDS, filter.kind),
        notice,
      },
    })
  }

  guard(deps, app, 'GET', '/compliance/risks', 'compliance.read', (c) => page(c))
  guard(deps, app, 'POST', '/compliance/risks/refresh', 'compliance.manage', async (c) => {
    const r = await refreshRisks(deps)
    await audit(deps, c, 'compliance.risks.refresh', null, { ...r })
    return page(c, t(adminLocale(c), 'admin.compliance.risks.refreshed', { ...r }))
  })
}
