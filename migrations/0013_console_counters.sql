-- Migration number: 0013
-- The admin console, part 2 (README "Admin console"; docs/architecture.md, "Daily counters"): the
-- counters the dashboard (and a /metrics endpoint) read instead of counting the ledger on each view,
-- what it takes to fill them from the data already recorded, the working of data-subject requests
-- (history, notes, extensions of Art. 12(3)), the console's settings, and indexes for its figures.

-- Events counted per UTC day as they land, in the atomic unit that records them (or, for the gate's
-- refusals on the API hot path, gathered in memory and written within a second): one row per counter
-- name, day and dimensions. The names and what each dimension holds are in
-- src/domain/platform/counters.ts. Counts only, never who.
CREATE TABLE daily_counters (
  name TEXT NOT NULL,
  day TEXT NOT NULL,                         -- UTC date, YYYY-MM-DD
  dim1 TEXT NOT NULL DEFAULT '',
  dim2 TEXT NOT NULL DEFAULT '',
  dim3 TEXT NOT NULL DEFAULT '',
  count INTEGER NOT NULL,
  last_at INTEGER NOT NULL,                  -- the latest event counted, epoch milliseconds
  PRIMARY KEY (name, day, dim1, dim2, dim3)
) WITHOUT ROWID;

-- The relay's refusals (0008) are the counter `sends_refused` now: place, purpose, reason.
INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
SELECT 'sends_refused', day, source, purpose_key, reason, count, last_at FROM blocked_sends;
DROP TABLE blocked_sends;

-- Data-subject requests are few (one per access, export, correction, erasure or objection): counted here.
INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
SELECT 'dsr_received', strftime('%Y-%m-%d', received_at / 1000, 'unixepoch'), kind, channel, '',
  count(*), max(received_at)
FROM dsr_requests GROUP BY 1, 2, 3, 4;

-- What the ledger and the webhook receipts held before this migration is counted afterwards, in
-- batches (the scheduled jobs, on Node's timer and the Workers cron alike; a single statement over
-- millions of rows would outlast D1's limits). Events written from now on are counted as they land.
-- consent_events: rowids up to `boundary`, `cursor` the last one counted. webhook_receipts: by key,
-- the rows whose `counted` is still NULL (a receipt's outcome changes when its event is processed).
CREATE TABLE counter_backfill (
  source TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  boundary INTEGER,
  total INTEGER NOT NULL,                    -- rows to count, for the dashboard's progress line
  done INTEGER NOT NULL DEFAULT 0,           -- rows counted so far
  finished_at INTEGER
) WITHOUT ROWID;
INSERT INTO counter_backfill (source, cursor, boundary, total)
SELECT 'consent_events', '0', coalesce(max(rowid), 0), count(*) FROM consent_events;
INSERT INTO counter_backfill (source, cursor, boundary, total)
SELECT 'webhook_receipts', '', NULL, count(*) FROM webhook_receipts;

-- 1 once the receipt is counted in `webhook_events` (new receipts are, as they are written).
ALTER TABLE webhook_receipts ADD COLUMN counted INTEGER;

-- Data-subject requests worked through the console (GDPR Art. 12): an extension by up to two further
-- months, with its reason (told to the person); the address to answer a request that came by post or
-- phone from someone the gateway does not know, encrypted like every personal field.
ALTER TABLE dsr_requests ADD COLUMN extended_at INTEGER;
ALTER TABLE dsr_requests ADD COLUMN extension_months INTEGER;
ALTER TABLE dsr_requests ADD COLUMN extension_reason TEXT;
ALTER TABLE dsr_requests ADD COLUMN reply_email_enc TEXT;

-- What happened to a request, step by step, with staff notes (encrypted: a note may name the person).
CREATE TABLE dsr_history (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES dsr_requests (id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  step TEXT NOT NULL,                        -- received, verified, note, extended, completed, mailed…
  note_enc TEXT
);
CREATE INDEX dsr_history_request ON dsr_history (request_id, at);

-- Settings staff change in the console (the mirror mode), over the environment's defaults.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
) WITHOUT ROWID;

-- The dashboard's Mautic figures without a scan: dead letters (rare: entries only for them) and the
-- mirror's pending changes in observe mode.
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (id) WHERE status = 'dead';
CREATE INDEX mautic_mirror_pending ON mautic_mirror (mautic_id) WHERE pending_changes IS NOT NULL;
-- Requests received lately, for the dashboard (the open ones have their index already).
CREATE INDEX dsr_requests_received ON dsr_requests (received_at);
