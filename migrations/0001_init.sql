-- Migration number: 0001
-- The core model (docs/architecture.md). Times are Unix epoch milliseconds (INTEGER).
-- Personal data never sits in clear: columns ending in _enc hold AES-GCM ciphertext ("kid.base64"),
-- and look-ups by address go through a keyed blind index (HMAC of the normalised address).
-- No BEGIN/COMMIT here: wrangler and the Node runner each wrap a migration file themselves.

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,                       -- opaque UUIDv7: what link tokens carry, never the address
  email_enc TEXT,                            -- NULL once erased (Art. 17)
  email_bidx TEXT,                           -- blind index of the normalised address
  bidx_kid TEXT,                             -- key id the blind index was computed with (rotation)
  locale TEXT NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en')),
  attributes_enc TEXT,                       -- other personal fields, encrypted JSON
  data_key_enc TEXT,                         -- per-contact key for ledger evidence; destroyed on erasure
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'erased')),
  objected_at INTEGER,                       -- Art. 21 objection to all direct marketing
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  erased_at INTEGER
) WITHOUT ROWID; -- one B-tree descent per look-up by id: the gate's hot path
CREATE UNIQUE INDEX contacts_email_bidx ON contacts (email_bidx) WHERE email_bidx IS NOT NULL;

-- Many Mautic contacts can point at one gateway contact (duplicates, merges).
CREATE TABLE contact_links (
  system TEXT NOT NULL,                      -- 'mautic'
  external_id TEXT NOT NULL,
  contact_id TEXT NOT NULL REFERENCES contacts (id),
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (system, external_id)
) WITHOUT ROWID;
CREATE INDEX contact_links_contact ON contact_links (contact_id);

CREATE TABLE purposes (
  key TEXT PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'web', 'app', 'data')),
  legal_basis TEXT NOT NULL CHECK (legal_basis IN ('consent', 'legitimate_interest')),
  double_opt_in INTEGER NOT NULL DEFAULT 0 CHECK (double_opt_in IN (0, 1)),
  max_consent_age_days INTEGER CHECK (max_consent_age_days IS NULL OR max_consent_age_days > 0),
  position INTEGER NOT NULL DEFAULT 0,
  archived_at INTEGER,
  created_at INTEGER NOT NULL
);

-- Versioned wording per purpose and locale. A published version is never edited: a change is a new row.
CREATE TABLE notices (
  id TEXT PRIMARY KEY,
  purpose_key TEXT NOT NULL REFERENCES purposes (key),
  locale TEXT NOT NULL CHECK (locale IN ('fr', 'en')),
  version INTEGER NOT NULL CHECK (version > 0),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  privacy_url TEXT NOT NULL,
  content_hash TEXT NOT NULL,                -- SHA-256 of the wording, for proof (Art. 7(1))
  requires_reconsent INTEGER NOT NULL DEFAULT 0 CHECK (requires_reconsent IN (0, 1)),
  published_at INTEGER,
  created_at INTEGER NOT NULL,
  UNIQUE (purpose_key, locale, version)
);

-- Append-only ledger. One hash chain per contact (UNIQUE(contact_id, seq)): concurrent writers to
-- different contacts never contend, and the loser of a race on one contact retries with seq + 1.
CREATE TABLE consent_events (
  id TEXT NOT NULL,                          -- UUIDv7, made in code (atomic units cannot read back)
  contact_id TEXT NOT NULL REFERENCES contacts (id),
  seq INTEGER NOT NULL CHECK (seq > 0),
  purpose_key TEXT NOT NULL REFERENCES purposes (key),
  action TEXT NOT NULL
    CHECK (action IN ('requested', 'confirmed', 'granted', 'withdrawn', 'expired', 'erased')),
  notice_id TEXT REFERENCES notices (id),
  method TEXT NOT NULL,                      -- form, double_opt_in, one_click, api, import, admin…
  source TEXT NOT NULL,                      -- form id, URL, Mautic form id, API key name…
  evidence_enc TEXT,                         -- IP, user agent, shown-unticked… under the contact's key
  actor TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (contact_id, seq)                   -- the chain: a racing writer fails here and retries
);
-- A rowid table on purpose: rows (~0.5 KB) are appended at the end of the table and only the small
-- (contact_id, seq) index entry lands at a random place, which writes fewer pages per commit.

-- Current state per (contact, purpose), written in the same atomic unit as each event. The gate reads only this.
CREATE TABLE consent_state (
  contact_id TEXT NOT NULL REFERENCES contacts (id),
  purpose_key TEXT NOT NULL REFERENCES purposes (key),
  status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'withdrawn', 'expired')),
  notice_id TEXT REFERENCES notices (id),
  -- Copied from the (immutable) notice so that the gate needs no join to know whether it is outdated.
  notice_version INTEGER,
  notice_locale TEXT,
  granted_at INTEGER,
  changed_at INTEGER NOT NULL,
  last_event_id TEXT NOT NULL,
  PRIMARY KEY (contact_id, purpose_key)
) WITHOUT ROWID;

-- Keyed hashes of addresses whose owner asked for erasure or objected: never mailed or re-imported.
CREATE TABLE suppressions (
  email_bidx TEXT PRIMARY KEY,
  bidx_kid TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('erased', 'objected')),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Side effects on the outside world (Mautic calls, e-mails), written atomically with the state change
-- and delivered by the scheduler with retries. ordering_key keeps one contact's calls in order.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,                       -- monotonic UUIDv7: id order is creation order
  kind TEXT NOT NULL,
  ordering_key TEXT,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  done_at INTEGER
) WITHOUT ROWID; -- one B-tree fewer to write per row (every consent change writes one)
-- The one index: pending rows only (few at any time), by ordering key then id. The delivery query
-- scans it for due rows; a second index on next_attempt_at would cost a B-tree write per state change.
CREATE INDEX outbox_pending ON outbox (ordering_key, id) WHERE status = 'pending';

-- Idempotency of webhook deliveries (Mautic sends no delivery id; the key is derived from the event).
CREATE TABLE webhook_receipts (
  key TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  event_type TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Hash-chained record of what staff and the system did (accountability, Art. 5(2)).
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  details TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE TABLE admin_users (
  id TEXT PRIMARY KEY,
  email_enc TEXT NOT NULL,
  email_bidx TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'dpo', 'marketer', 'viewer')),
  password_hash TEXT,
  totp_secret_enc TEXT,
  totp_enabled_at INTEGER,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
);

-- Only the SHA-256 of a session token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  admin_user_id TEXT NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
  two_factor_verified INTEGER NOT NULL DEFAULT 0 CHECK (two_factor_verified IN (0, 1)),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (admin_user_id);

-- API keys are shown once; only a hash of the secret part is kept.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,                       -- the public prefix of the key
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,                      -- JSON array of scope names
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
