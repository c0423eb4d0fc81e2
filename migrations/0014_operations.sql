-- Migration number: 0014
-- Operations (GDPR Art. 5(1)(e), 7(1), 32; docs/compliance-matrix.md): retention runs that erase
-- contacts inactive past their period, the monitor's findings and alerts, the quarterly review a DPO
-- signs off, re-consent campaigns when a notice requires it, and the record of backups.
-- No personal data in clear in any of these tables.

-- compliance_findings, rebuilt: the monitor's findings are about a subject (a request, a notice, an
-- account, the outbox…), at most one open per (kind, subject), with a severity and the time the last
-- alert about it went out (at most one a day). The kinds are checked by the code that writes them
-- (src/domain/platform/findings.ts), not by a CHECK: a new kind then needs no table rebuild.
CREATE TABLE compliance_findings_new (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT,                              -- NULL for the Mautic connector's per-contact findings
  severity TEXT NOT NULL DEFAULT 'medium' CHECK (severity IN ('high', 'medium', 'low')),
  contact_id TEXT,
  mautic_id TEXT,
  purpose_key TEXT,
  details TEXT NOT NULL,                     -- JSON, never personal data
  created_at INTEGER NOT NULL,
  updated_at INTEGER,
  resolved_at INTEGER,
  resolution TEXT,
  alerted_at INTEGER                         -- the last alert (mail, webhook) that named it
);
INSERT INTO compliance_findings_new
  (id, kind, subject, severity, contact_id, mautic_id, purpose_key, details, created_at, updated_at,
   resolved_at, resolution, alerted_at)
SELECT id, kind, NULL, CASE kind WHEN 'send_without_consent' THEN 'high' ELSE 'medium' END,
       contact_id, mautic_id, purpose_key, details, created_at, created_at, resolved_at, resolution,
       NULL
FROM compliance_findings;
DROP TABLE compliance_findings;
ALTER TABLE compliance_findings_new RENAME TO compliance_findings;
CREATE INDEX compliance_findings_open ON compliance_findings (created_at) WHERE resolved_at IS NULL;
CREATE INDEX compliance_findings_mautic ON compliance_findings (mautic_id, kind) WHERE mautic_id IS NOT NULL;
CREATE UNIQUE INDEX compliance_findings_subject ON compliance_findings (kind, subject)
  WHERE resolved_at IS NULL AND subject IS NOT NULL;

-- One retention run: a pass over every active contact (erasing those inactive past the period), then
-- old webhook receipts, used or expired staff set-up links and old mail logs. A run advances in
-- bounded steps (D1's limits, the cron's CPU time) and resumes where it stopped (phase, cursor).
CREATE TABLE retention_runs (
  id TEXT PRIMARY KEY,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'cli', 'admin')),
  actor TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  phase TEXT NOT NULL,                       -- contacts, receipts, links, mail_log, done
  cursor TEXT,                               -- the last key passed in the phase
  cutoff INTEGER NOT NULL,                   -- no activity since this time: erased
  inactive_days INTEGER NOT NULL,
  scanned INTEGER NOT NULL DEFAULT 0,
  contacts_erased INTEGER NOT NULL DEFAULT 0,
  receipts_deleted INTEGER NOT NULL DEFAULT 0,
  links_deleted INTEGER NOT NULL DEFAULT 0,
  mail_logs_deleted INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  locked_until INTEGER,                      -- a step in progress (two cron runs never overlap)
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);

-- A contact the person initiated that the ledger and the requests do not show (a submission of a Mautic
-- form mapped to no purpose): counted as activity by the retention rule (README, "Retention").
CREATE TABLE contact_activity (
  contact_id TEXT PRIMARY KEY REFERENCES contacts (id),
  last_at INTEGER NOT NULL,
  kind TEXT NOT NULL                         -- mautic_form
) WITHOUT ROWID;

-- When each periodic job of the operations last ran (the monitor every few minutes, the chain
-- verification daily, a retention run daily…), shared by every process and Worker isolate.
CREATE TABLE job_marks (
  job TEXT PRIMARY KEY,
  last_run_at INTEGER NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

-- Backups taken (`consent-gateway backup`) or recorded through the admin API (a `wrangler d1 export`):
-- the monitor compares the latest with BACKUP_MAX_AGE_HOURS.
CREATE TABLE backups (
  id TEXT PRIMARY KEY,
  taken_at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sqlite', 'sealed', 'd1_export', 'other')),
  location TEXT NOT NULL,                    -- the file name or where it went, as given
  size_bytes INTEGER,
  sha256 TEXT,
  recorded_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX backups_taken ON backups (taken_at);

-- The quarterly review a DPO signs off: one per calendar quarter ('2026-Q4'), the checklist as ticked.
CREATE TABLE compliance_reviews (
  quarter TEXT PRIMARY KEY,
  items TEXT NOT NULL,                       -- JSON: item key -> true
  notes TEXT NOT NULL DEFAULT '',
  signed_by TEXT NOT NULL,                   -- admin:<id> or api:<key id>
  signed_role TEXT,
  signed_at INTEGER NOT NULL
);

-- A notice version published with "requires re-consent" (and a grace period): the contacts whose
-- consent was given under an older version of it are mailed, a batch at a time, resumably.
ALTER TABLE notices ADD COLUMN reconsent_grace_until INTEGER;

CREATE TABLE reconsent_campaigns (
  notice_id TEXT PRIMARY KEY REFERENCES notices (id),
  purpose_key TEXT NOT NULL,
  locale TEXT NOT NULL CHECK (locale IN ('fr', 'en')),
  version INTEGER NOT NULL,
  grace_until INTEGER NOT NULL,              -- then the gate answers notice_outdated
  cursor TEXT,                               -- the last contact id looked at
  queued INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  scanned_at INTEGER,                        -- every contact looked at: nothing more to queue
  locked_until INTEGER
);

CREATE TABLE reconsent_mails (
  notice_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  sent_at INTEGER,
  PRIMARY KEY (notice_id, contact_id)
) WITHOUT ROWID;

-- The monitor counts dead letters every few minutes: a partial index holds only them (a row enters
-- it when it is dead-lettered, never on the hot path of a consent change). Its own name: 0013 made
-- `outbox_dead` (by id) for the dashboard.
CREATE INDEX outbox_dead_kind ON outbox (kind, created_at) WHERE status = 'dead';
