-- Migration number: 0007
-- Mautic as it really behaves (issue 16): the alias Mautic gave each consent field (it cuts new aliases
-- to 25 characters), the webhook secrets the gateway accepts besides MAUTIC_WEBHOOK_SECRET, and what the
-- gateway knows of the webhook's health (Mautic unpublishes a webhook whose deliveries keep failing).

-- The field alias Mautic returned when `mautic connect` created (or found) a purpose's boolean field.
CREATE TABLE mautic_fields (
  purpose_key TEXT PRIMARY KEY,
  alias TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Secrets `mautic connect` generated or read back from Mautic, accepted at once alongside the
-- configured one (encrypted with the field key, like every secret at rest).
CREATE TABLE webhook_secrets (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('generated', 'recovered')),
  webhook_id TEXT,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per webhook source: the last delivery accepted and the last refused (throttled writes), and
-- the webhook as Mautic last showed it (published or not).
CREATE TABLE webhook_health (
  source TEXT PRIMARY KEY,
  last_received_at INTEGER,
  last_refused_at INTEGER,
  last_refused_reason TEXT,
  webhook_id TEXT,
  webhook_url TEXT,
  published INTEGER,
  checked_at INTEGER
) WITHOUT ROWID;
