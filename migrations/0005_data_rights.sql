-- Migration number: 0005
-- Data-subject requests (GDPR Art. 12(3), 15-21): access, export, rectification, erasure, objection.
-- Each request is tracked from receipt to completion, with the one-month deadline of Art. 12(3), so that
-- the DPO can show when every request was answered (accountability, Art. 5(2)). Self-service requests
-- complete on their own; the admin lists the open ones by due date.

CREATE TABLE dsr_requests (
  id TEXT PRIMARY KEY,
  -- NULL when a request names no known contact (admin channel); an erased contact keeps its opaque id.
  contact_id TEXT REFERENCES contacts (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'export', 'rectify', 'erase', 'object')),
  channel TEXT NOT NULL CHECK (channel IN ('self_service', 'admin')),
  received_at INTEGER NOT NULL,
  verified_at INTEGER,                       -- identity proven (the mailed link opened, or staff checked)
  due_at INTEGER NOT NULL,                   -- received_at + one calendar month (Art. 12(3))
  completed_at INTEGER,
  handled_by TEXT,                           -- 'self_service', 'admin:<id>', 'system'
  details TEXT NOT NULL DEFAULT '{}'         -- JSON; never personal data (field names, not values)
);
CREATE INDEX dsr_requests_contact ON dsr_requests (contact_id, received_at);
CREATE INDEX dsr_requests_open ON dsr_requests (due_at) WHERE completed_at IS NULL;
