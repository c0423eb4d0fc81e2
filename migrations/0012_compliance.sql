-- Migration number: 0012
-- Compliance, part 1 (GDPR Art. 5(2), 19, 28, 30, 33; docs/compliance-matrix.md): the data inventory
-- and its risk findings, the processors register, the passing on of corrections and erasures to each
-- recipient (Art. 19), proof bundles for an authority, and the breach register (Art. 33).
-- No personal data in clear in any of these tables.

-- Every personal-data field the organisation holds: Mautic's contact fields, the gateway's own, and any
-- a person adds by hand. A field is classified only when a person confirms it (confirmed_at): the
-- suggestion made from its name and type is kept beside it, never applied on its own.
CREATE TABLE data_fields (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL CHECK (source IN ('mautic', 'gateway', 'manual')),
  name TEXT NOT NULL,                        -- Mautic alias, gateway field name, or a free name
  label TEXT NOT NULL,
  type TEXT NOT NULL,                        -- Mautic's field type (text, textarea, email…), or the gateway's
  suggested_category TEXT
    CHECK (suggested_category IN ('identity', 'contact', 'professional', 'behavioural', 'location',
                                  'free_text', 'special')),
  suggestion TEXT NOT NULL DEFAULT '{}',     -- JSON: the rule that matched, the word, the article, review
  category TEXT
    CHECK (category IN ('identity', 'contact', 'professional', 'behavioural', 'location',
                        'free_text', 'special')),
  purpose TEXT,                              -- what the field is processed for (the Art. 30 activity)
  legal_basis TEXT
    CHECK (legal_basis IN ('consent', 'contract', 'legal_obligation', 'vital_interests',
                           'public_task', 'legitimate_interest')),
  retention_days INTEGER CHECK (retention_days IS NULL OR retention_days > 0),
  special_condition TEXT,                    -- the Art. 9(2) condition relied on, for special categories
  notes TEXT,
  confirmed_at INTEGER,
  confirmed_by TEXT,
  reviewed_at INTEGER,                       -- free text: a person looked at what it holds
  review_note TEXT,
  removed_at INTEGER,                        -- gone from its source (kept for the record)
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (source, name)
);

-- Processors, sub-processors and other recipients (Art. 28, 30(1)(d)-(e)).
CREATE TABLE processors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('processor', 'sub_processor', 'joint_controller', 'recipient')),
  data_categories TEXT NOT NULL DEFAULT '[]', -- JSON array of the inventory's categories
  country TEXT NOT NULL,                     -- ISO 3166-1 alpha-2
  transfer_basis TEXT
    CHECK (transfer_basis IN ('adequacy', 'scc', 'bcr', 'derogation')),
  contract_signed_at INTEGER,                -- the data processing agreement (Art. 28(3))
  last_review_at INTEGER,                    -- last security review
  webhook_url TEXT,                          -- where corrections and erasures are sent (Art. 19)
  webhook_secret_enc TEXT,                   -- Standard Webhooks secret, encrypted
  notify_rights INTEGER NOT NULL DEFAULT 1 CHECK (notify_rights IN (0, 1)),
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  archived_at INTEGER
);

-- Which processors receive which field (Art. 30(1)(d)).
CREATE TABLE data_field_processors (
  field_id TEXT NOT NULL REFERENCES data_fields (id),
  processor_id TEXT NOT NULL REFERENCES processors (id),
  PRIMARY KEY (field_id, processor_id)
) WITHOUT ROWID;
CREATE INDEX data_field_processors_processor ON data_field_processors (processor_id);

-- What the risk scan found: opened when a condition appears, closed when it is gone. One open finding
-- per (kind, subject).
CREATE TABLE risk_findings (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,                     -- a field id, a processor id, a purpose key, 'mautic'
  severity TEXT NOT NULL CHECK (severity IN ('high', 'medium', 'low')),
  details TEXT NOT NULL DEFAULT '{}',        -- JSON, never personal data
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX risk_findings_open ON risk_findings (kind, subject) WHERE closed_at IS NULL;

-- A correction or erasure passed on to one recipient (Art. 19): by its webhook, or as a task for staff.
CREATE TABLE recipient_notices (
  id TEXT PRIMARY KEY,                       -- also the webhook-id the receiver deduplicates on
  request_id TEXT,                           -- the data-subject request (dsr_requests.id)
  processor_id TEXT NOT NULL REFERENCES processors (id),
  contact_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('rectify', 'erase')),
  channel TEXT NOT NULL CHECK (channel IN ('webhook', 'task')),
  status TEXT NOT NULL
    CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'open', 'done', 'superseded')),
  -- Whom and what it is about (the address the recipient knows, the corrected values), encrypted;
  -- emptied once passed on, so an erased person's address outlives the erasure only until then.
  subject_enc TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER,
  completed_by TEXT,
  note TEXT
);
CREATE INDEX recipient_notices_request ON recipient_notices (request_id);
CREATE INDEX recipient_notices_contact ON recipient_notices (contact_id);
CREATE INDEX recipient_notices_open ON recipient_notices (created_at) WHERE status IN ('open', 'pending', 'retrying', 'failed');

-- A bulk export of consent proof for an authority, cut at a signed ledger checkpoint. Its pages are
-- made one after another (on Workers, one request each); each page's hash is kept so that the
-- manifest, signed last, ties them together.
CREATE TABLE proof_bundles (
  id TEXT PRIMARY KEY,
  purpose_key TEXT,
  occurred_from INTEGER,
  occurred_to INTEGER,
  checkpoint_id TEXT NOT NULL REFERENCES ledger_checkpoints (id),
  page_size INTEGER NOT NULL CHECK (page_size > 0),
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  completed_at INTEGER                       -- the last page was made: the manifest can be signed
);

CREATE TABLE proof_bundle_pages (
  bundle_id TEXT NOT NULL REFERENCES proof_bundles (id),
  n INTEGER NOT NULL CHECK (n >= 0),         -- page 0: the header and the wording; then the events
  lines INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  after_contact TEXT NOT NULL,               -- where the next page starts (chain order)
  after_seq INTEGER NOT NULL,
  done INTEGER NOT NULL CHECK (done IN (0, 1)),
  counts TEXT NOT NULL DEFAULT '{}',         -- JSON: events per purpose and per action
  PRIMARY KEY (bundle_id, n)
) WITHOUT ROWID;

-- Personal data breaches (Art. 33, 34): the 72-hour clock runs from detection.
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  detected_at INTEGER NOT NULL,
  nature TEXT NOT NULL DEFAULT '[]',         -- JSON: confidentiality, integrity, availability
  data_categories TEXT NOT NULL DEFAULT '[]',
  people_affected INTEGER,
  records_affected INTEGER,
  risk TEXT CHECK (risk IN ('unlikely', 'risk', 'high')),
  assessment TEXT,
  assessed_at INTEGER,
  authority_notified_at INTEGER,
  authority_reference TEXT,
  delay_reason TEXT,                         -- Art. 33(1): why later than 72 hours
  people_notified_at INTEGER,
  people_notice TEXT,                        -- how people were told, or why not (Art. 34(3))
  measures TEXT,
  reminder_48_at INTEGER,
  reminder_66_at INTEGER,
  closed_at INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_open ON incidents (detected_at) WHERE closed_at IS NULL;
