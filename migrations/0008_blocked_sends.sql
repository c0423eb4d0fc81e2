-- Migration number: 0008
-- Sends the gate refused, counted per UTC day, place, purpose and reason: the figures an operator
-- reads (the admin's blocked sends, /metrics). The SMTP relay writes them, at RCPT TO and after DATA:
-- a recipient refused after DATA while others got the mail is otherwise seen by nobody, since the
-- sender is answered 250 for the message. Counts only: never an address or a contact.

CREATE TABLE blocked_sends (
  day TEXT NOT NULL,                         -- UTC date, YYYY-MM-DD
  source TEXT NOT NULL,                      -- 'relay_rcpt' (at RCPT TO), 'relay_data' (after DATA)
  purpose_key TEXT NOT NULL,                 -- '' at RCPT TO: refused for every purpose, none chosen yet
  reason TEXT NOT NULL,                      -- a gate reason (unknown_contact, withdrawn, …)
  count INTEGER NOT NULL,
  last_at INTEGER NOT NULL,                  -- the latest refusal counted, epoch milliseconds
  PRIMARY KEY (day, source, purpose_key, reason)
) WITHOUT ROWID;
