/**
 * @module GET /metrics in the Prometheus text exposition format (version 0.0.4), every figure read
 * from the database: the daily counters (src/domain/platform/counters.ts) summed over their days, the
 * outbox, data-subject requests and open findings. Nothing comes from in-process counters, which
 * would mean nothing across Workers isolates or after a restart: two instances scraped at once give
 * the same numbers. Counts only, never who (no label holds personal data: purposes, reasons, kinds).
 */
import { sumAllCounters } from '../../db/repositories/counters.ts'
import {
  countOpenRequests,
  deadLetterSummary,
  pendingOutboxSummary,
} from '../../db/repositories/monitor.ts'
import type { Deps } from '../../deps.ts'
import { backfillProgress, COUNTERS, type CounterName } from '../platform/counters.ts'
import { openFindingsByKind } from '../platform/findings.ts'
import { backupStatus } from './backups.ts'
import { DSR_WARN_MS } from './monitor.ts'

const PREFIX = 'consent_gateway_'

/** The daily counters as Prometheus counters: their metric name and help text. */
const COUNTER_METRICS: Record<CounterName, { metric: string; help: string }> = {
  consent_events: {
    metric: 'consent_events_total',
    help: 'Consent events recorded in the ledger, by purpose and action.',
  },
  optin_requested: {
    metric: 'optin_requested_total',
    help: 'Double opt-in requests, by purpose and source.',
  },
  optin_confirmed: {
    metric: 'optin_confirmed_total',
    help: 'Double opt-in confirmations, by purpose, source and time-to-confirm bucket.',
  },
  sends_refused: {
    metric: 'gate_refusals_total',
    help: 'Sends the consent gate refused, by place (gate_api, send_api, relay_rcpt, relay_data, campaign_gate), purpose and reason.',
  },
  webhook_events: {
    metric: 'webhook_events_total',
    help: 'Mautic webhook events received, by type and outcome.',
  },
  webhook_refused: {
    metric: 'webhook_refused_total',
    help: 'Mautic webhook deliveries refused whole, by reason.',
  },
  dsr_received: {
    metric: 'requests_received_total',
    help: 'Data-subject requests received, by kind and channel.',
  },
}

interface Sample {
  labels?: Record<string, string>
  value: number
}
interface Family {
  name: string
  type: 'counter' | 'gauge'
  help: string
  samples: Sample[]
}

/** The exposition text of every metric the gateway serves. */
export async function metricsText(deps: Deps): Promise<string> {
  const now = deps.clock.now()
  const [sums, pending, dead, open, dueSoon, overdue, findings, backfill, backup] =
    await Promise.all([
      sumAllCounters(deps.db),
      pendingOutboxSummary(deps.db),
      deadLetterSummary(deps.db),
      countOpenRequests(deps.db),
      countOpenRequests(deps.db, now + DSR_WARN_MS),
      countOpenRequests(deps.db, now),
      openFindingsByKind(deps),
      backfillProgress(deps),
      backupStatus(deps),
    ])

  const families: Family[] = []
  for (const [name, { metric, help }] of Object.entries(COUNTER_METRICS)) {
    const dims = COUNTERS[name as CounterName] as readonly string[]
    const samples = sums
      .filter((r) => r.name === name)
      .map((r) => ({
        labels: Object.fromEntries(dims.map((d, i) => [d, [r.dim1, r.dim2, r.dim3][i] ?? ''])),
        value: Number(r.count),
      }))
    families.push({ name: metric, type: 'counter', help, samples })
  }
  families.push(
    {
      name: 'counters_backfill_remaining',
      type: 'gauge',
      help: 'Rows recorded before the daily counters existed and not yet counted in them (0 once the backfill is done).',
      samples: [{ value: backfill.finished ? 0 : Math.max(0, backfill.total - backfill.done) }],
    },
    {
      name: 'outbox_pending',
      type: 'gauge',
      help: 'Outbox messages (calls to Mautic, mails) waiting to be delivered.',
      samples: [{ value: pending.count }],
    },
    {
      name: 'outbox_oldest_pending_age_seconds',
      type: 'gauge',
      help: 'Age of the oldest pending outbox message (0 when none is pending).',
      samples: [
        { value: pending.oldest === null ? 0 : Math.max(0, (now - pending.oldest) / 1000) },
      ],
    },
    {
      name: 'outbox_dead_letters',
      type: 'gauge',
      help: 'Outbox messages dead-lettered after every retry, by kind.',
      samples: dead.map((d) => ({ labels: { kind: d.kind }, value: d.count })),
    },
    {
      name: 'requests_open',
      type: 'gauge',
      help: 'Data-subject requests not yet completed.',
      samples: [{ value: open }],
    },
    {
      name: 'requests_due_within_7_days',
      type: 'gauge',
      help: 'Open data-subject requests due within 7 days (GDPR Art. 12(3): one month), not yet overdue.',
      samples: [{ value: dueSoon - overdue }],
    },
    {
      name: 'requests_overdue',
      type: 'gauge',
      help: 'Open data-subject requests past their due date.',
      samples: [{ value: overdue }],
    },
    {
      name: 'findings_open',
      type: 'gauge',
      help: 'Open compliance findings, by kind.',
      samples: Object.entries(findings).map(([kind, n]) => ({ labels: { kind }, value: n })),
    },
    {
      name: 'backup_age_seconds',
      type: 'gauge',
      help: 'Seconds since the last recorded backup (absent when none was recorded).',
      samples: backup.age_seconds === null ? [] : [{ value: backup.age_seconds }],
    },
  )
  return families.map(exposition).join('')
}

/** One family: HELP, TYPE, then its samples (https://prometheus.io/docs/instrumenting/exposition_formats/). */
function exposition(f: Family): string {
  const name = PREFIX + f.name
  let out = `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`
  out += `# TYPE ${name} ${f.type}\n`
  for (const s of f.samples) {
    const labels = Object.entries(s.labels ?? {})
    const text = labels.length
      ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
      : ''
    out += `${name}${text} ${Number.isFinite(s.value) ? s.value : 0}\n`
  }
  return out
}

/** Label values escape backslash, double quote and line feed. */
const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
