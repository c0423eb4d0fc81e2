-- Migration number: 0002
-- Consent capture and proof (issue: consent ledger): double opt-in requests, hosted forms, signed
-- ledger checkpoints, receipt signing keys, database-backed rate limits, the Workers mail log.
-- Default purposes and their notices are seeded by 0003_seed_purposes.sql.

-- One double opt-in request = one confirmation e-mail whose token confirms every purpose listed.
CREATE TABLE optin_requests (
  id TEXT PRIMARY KEY,                       -- what the signed confirmation token carries
  contact_id TEXT NOT NULL REFERENCES contacts (id),
  purposes TEXT NOT NULL,                    -- JSON array of purpose keys
  notices TEXT NOT NULL,                     -- JSON object purpose key -> notice id shown
  locale TEXT NOT NULL CHECK (locale IN ('fr', 'en')),
  source TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'expired')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  last_sent_at INTEGER,
  send_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX optin_requests_contact ON optin_requests (contact_id, created_at);
CREATE INDEX optin_requests_pending ON optin_requests (expires_at) WHERE status = 'pending';

-- Hosted opt-in forms (/subscribe/{key}): which purposes each offers.
CREATE TABLE forms (
  key TEXT PRIMARY KEY CHECK (key GLOB '[a-z0-9_-]*'),
  purposes TEXT NOT NULL,                    -- JSON array of purpose keys, in display order
  created_at INTEGER NOT NULL
);

-- A signed statement over the heads of every consent chain at a point in time: deleting a whole
-- chain (which its own hashes cannot reveal) changes the digest and is detected.
CREATE TABLE ledger_checkpoints (
  id TEXT PRIMARY KEY,
  covered_until INTEGER NOT NULL,            -- events recorded up to this time are covered
  chain_count INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  heads_digest TEXT NOT NULL,                -- SHA-256 over "contact_id:seq:hash" lines, sorted
  signature TEXT NOT NULL,                   -- compact JWS by the receipt signing key
  created_at INTEGER NOT NULL
);
CREATE INDEX ledger_checkpoints_time ON ledger_checkpoints (covered_until);

-- Asymmetric keys for consent receipts (WebCrypto derives no signature keys, so they are generated
-- once). The private key is stored encrypted; every public key stays published in the JWKS.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk_enc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);

-- Fixed-window counters for public forms, shared by every process (and every Worker isolate).
-- Keys hold a keyed hash of the client address, never the address itself.
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL
) WITHOUT ROWID;

-- MAIL_TRANSPORT=log on Workers (no file system): what would have been sent.
CREATE TABLE mail_log (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  recipient_enc TEXT NOT NULL,
  subject TEXT NOT NULL,
  message TEXT NOT NULL                      -- JSON of the rendered message, encrypted
);

-- Published notices are immutable (Art. 7(1) proof: what was shown must stay exactly as shown).
CREATE TRIGGER notices_published_immutable BEFORE UPDATE ON notices
WHEN OLD.published_at IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'a published notice cannot be changed: publish a new version');
END;

-- The ledger is append-only.
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
  SELECT RAISE(ABORT, 'consent_events is append-only');
END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
  SELECT RAISE(ABORT, 'consent_events is append-only');
END;
