-- Migration number: 0004
-- The Mautic connector (issue 4): form and e-mail mappings, the mirror's view of each Mautic contact,
-- and compliance findings (a send that slipped through, a consent claimed without proof).

-- Which box of which Mautic form means consent to which purpose, under which wording (Art. 7(1)):
-- the notice version and locale that form shows are fixed here, not guessed at submission time.
CREATE TABLE mautic_form_fields (
  form_id TEXT NOT NULL,
  field_alias TEXT NOT NULL,
  purpose_key TEXT NOT NULL REFERENCES purposes (key),
  notice_version INTEGER NOT NULL CHECK (notice_version > 0),
  locale TEXT NOT NULL CHECK (locale IN ('fr', 'en')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (form_id, field_alias)
) WITHOUT ROWID;

-- Which purpose a Mautic e-mail (by id) or e-mail category serves; unmapped e-mails count as email_marketing.
CREATE TABLE mautic_email_purposes (
  kind TEXT NOT NULL CHECK (kind IN ('email', 'category')),
  ref TEXT NOT NULL,
  purpose_key TEXT NOT NULL REFERENCES purposes (key),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (kind, ref)
) WITHOUT ROWID;

-- What the gateway knows of each linked Mautic contact's consent mirror.
CREATE TABLE mautic_mirror (
  mautic_id TEXT PRIMARY KEY,
  contact_id TEXT REFERENCES contacts (id),
  -- When the contact's own unsubscribe (DNC reason 1) was first seen: only a grant confirmed after it
  -- may lift it (docs/mautic.md §2.3: Mautic's "remove DNC" removes any reason).
  own_unsubscribe_at INTEGER,
  bounced_at INTEGER,
  -- JSON of the last state written (enforce) so that unchanged contacts cost no API call.
  mirrored_state TEXT,
  mirrored_at INTEGER,
  -- MIRROR_MODE=observe: JSON list of the changes the gateway would make, and since when.
  pending_changes TEXT,
  observed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX mautic_mirror_contact ON mautic_mirror (contact_id);

-- Things a DPO must see: a marketing send without valid consent, a consent claimed in Mautic with no
-- proof behind it, a Mautic contact with no recorded consent at the initial sync. No personal data in details.
CREATE TABLE compliance_findings (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL
    CHECK (kind IN ('send_without_consent', 'unproven_consent_claim', 'no_proof', 'bounced')),
  contact_id TEXT,
  mautic_id TEXT,
  purpose_key TEXT,
  details TEXT NOT NULL,                     -- JSON
  created_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolution TEXT
);
CREATE INDEX compliance_findings_open ON compliance_findings (created_at) WHERE resolved_at IS NULL;

-- What became of each webhook event: queued, applied, stale (older than the latest change), echo
-- (the gateway's own write coming back), ignored (unknown type).
ALTER TABLE webhook_receipts ADD COLUMN outcome TEXT;
