-- Migration number: 0007
-- The admin console (issue 18): staff accounts with a password and a second factor (TOTP, recovery
-- codes, passkeys), sessions, one-time set-up and invitation links, sign-in throttling, and the audit
-- log, hash-chained like the consent ledger and covered by the signed checkpoints.
-- 0001 drafted audit_log, admin_users and sessions; no release ever wrote a row to them (nothing in the
-- code did), and admin_users lacked the `admin` role and the lock-out state, so they are made anew.

DROP TABLE sessions;
DROP TABLE admin_users;
DROP TABLE audit_log;

CREATE TABLE admin_users (
  id TEXT PRIMARY KEY,                       -- UUIDv7, what sessions and the audit log name
  email_enc TEXT NOT NULL,                   -- AES-GCM under the field key (staff addresses are personal data)
  email_bidx TEXT NOT NULL UNIQUE,           -- blind index of the normalised address: the sign-in look-up
  bidx_kid TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'dpo', 'marketer', 'viewer')),
  -- invited: the set-up link is out, no password yet; active; disabled (kept for the audit trail).
  status TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'disabled')),
  locale TEXT NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en')),
  -- PBKDF2-SHA-256: the algorithm and the iteration count beside each hash, so that a count below the
  -- runtime's is raised at the next sign-in.
  password_alg TEXT CHECK (password_alg IS NULL OR password_alg = 'pbkdf2-sha256'),
  password_iterations INTEGER,
  password_salt TEXT,                        -- base64url, 16 random bytes
  password_hash TEXT,                        -- base64url, 32 bytes
  totp_secret_enc TEXT,                      -- the base32 secret, AES-GCM under the field key
  totp_enabled_at INTEGER,
  totp_last_step INTEGER,                    -- the last 30-second step accepted: a code is never used twice
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_sign_in_at INTEGER,
  disabled_at INTEGER
);

-- Ten per user, shown once; only a hash is kept; each one works once.
CREATE TABLE recovery_codes (
  id TEXT PRIMARY KEY,
  admin_user_id TEXT NOT NULL REFERENCES admin_users (id),
  code_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (admin_user_id);

-- WebAuthn credentials (passkeys, security keys).
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,                       -- the credential id, base64url
  admin_user_id TEXT NOT NULL REFERENCES admin_users (id),
  public_key TEXT NOT NULL,                  -- COSE public key, base64url
  counter INTEGER NOT NULL DEFAULT 0,
  transports TEXT NOT NULL DEFAULT '[]',     -- JSON array
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX passkeys_user ON passkeys (admin_user_id);

-- Only the SHA-256 of a session token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,                       -- base64url SHA-256 of the 256-bit token in the cookie
  admin_user_id TEXT NOT NULL REFERENCES admin_users (id),
  created_at INTEGER NOT NULL,               -- absolute expiry: created_at + 12 h
  last_seen_at INTEGER NOT NULL,             -- idle expiry: last_seen_at + 30 min
  second_factor_at INTEGER,                  -- NULL while only the password was checked
  step_up_at INTEGER,                        -- the last fresh second-factor check
  ip TEXT,
  user_agent TEXT,
  revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions (admin_user_id);

-- One-time links: the first owner's set-up and invitations. Only a hash of the token is stored.
CREATE TABLE setup_links (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  -- NULL for the first owner's link (`npm start`): the page asks for the address.
  admin_user_id TEXT REFERENCES admin_users (id),
  kind TEXT NOT NULL CHECK (kind IN ('setup', 'invite')),
  created_by TEXT NOT NULL,                  -- 'cli', 'console', 'admin:<id>', 'api:<key id>'
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX setup_links_user ON setup_links (admin_user_id);

-- WebAuthn challenges: single use, short-lived.
CREATE TABLE webauthn_challenges (
  challenge TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('register', 'authenticate')),
  admin_user_id TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Failed sign-ins per account (blind index, known or not: the same answer either way) and per client
-- address (keyed hash): growing delays, and for an account a lock-out that an owner lifts.
CREATE TABLE signin_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  next_allowed_at INTEGER NOT NULL,
  locked_at INTEGER
) WITHOUT ROWID;

-- Hash-chained record of what staff and the system did (accountability, Art. 5(2)): one global chain.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY CHECK (seq > 0),   -- the chain: a racing writer fails here and retries
  id TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,                       -- 'admin:<id>', 'api:<key id>', 'cli', 'system', 'anonymous'
  action TEXT NOT NULL,                      -- e.g. signin.password, user.invite, apikey.create
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  target TEXT,
  ip TEXT,
  user_agent TEXT,
  details TEXT NOT NULL DEFAULT '{}',        -- JSON; never a password, a code or a token
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The signed checkpoints also cover the audit chain's head at their time.
ALTER TABLE ledger_checkpoints ADD COLUMN audit_seq INTEGER;
ALTER TABLE ledger_checkpoints ADD COLUMN audit_hash TEXT;
