/**
 * @module The personal-data export as CSV (GDPR Art. 20: "commonly used and machine-readable"): one long
 * table, section, item, field, value, that any spreadsheet opens, safely (no formula runs from a cell).
 */
import type { NoticeWording, PersonalData } from './data-export.ts'

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma, semicolon or line break. A cell that a spreadsheet
 * would run as a formula (= + - @, tab, carriage return first) is prefixed with ' (OWASP "CSV injection").
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  // `;` too: a French spreadsheet splits on it, and the rest of the cell could start a formula.
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The whole export as `section,item,field,value` rows, CRLF-separated, with a BOM for spreadsheets. */
export function personalDataCsv(data: PersonalData): string {
  const rows: unknown[][] = [['section', 'item', 'field', 'value']]
  const add = (section: string, item: unknown, fields: Record<string, unknown>) => {
    for (const [field, value] of Object.entries(fields))
      rows.push([
        section,
        item,
        field,
        value !== null && typeof value === 'object' ? JSON.stringify(value) : value,
      ])
  }
  const wording = (n: NoticeWording | null) => ({
    notice_version: n?.version ?? null,
    notice_locale: n?.locale ?? null,
    notice_title: n?.title ?? null,
    notice_text: n?.text ?? null,
    notice_hash: n?.content_hash ?? null,
  })
  add('controller', '', { name: data.controller.name, privacy_url: data.controller.privacy_url })
  const { attributes, ...profile } = data.profile
  add('profile', '', profile)
  add('attribute', '', attributes)
  for (const c of data.consents)
    add('consent', c.purpose, {
      status: c.status,
      granted_at: c.granted_at,
      changed_at: c.changed_at,
      ...wording(c.notice),
    })
  for (const e of data.history)
    add('event', e.seq, {
      purpose: e.purpose,
      action: e.action,
      occurred_at: e.occurred_at,
      method: e.method,
      source: e.source,
      actor: e.actor,
      ...wording(e.notice),
      evidence: e.evidence_erased ? '(erased)' : e.evidence,
    })
  for (const r of data.requests)
    add('request', r.id, {
      kind: r.kind,
      channel: r.channel,
      received_at: r.receivedAt,
      verified_at: r.verifiedAt,
      due_at: r.dueAt,
      completed_at: r.completedAt,
    })
  add('receipt', '', { consent_receipt: data.consent_receipt })
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'
}
