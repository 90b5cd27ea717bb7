-- Conflict rules: what the site last sent but the account does not hold (taken over or
-- suffixed), and the audit log of every resolution.
ALTER TABLE accounts ADD COLUMN desired_username TEXT;
ALTER TABLE accounts ADD COLUMN desired_email TEXT;

CREATE TABLE audit_log (
  id                  TEXT PRIMARY KEY,            -- UUIDv7: time order, page cursor
  at                  TEXT NOT NULL,
  actor               TEXT NOT NULL,
  action              TEXT NOT NULL,
  policy              TEXT NOT NULL,
  field               TEXT NOT NULL,
  account_external_id TEXT NOT NULL,
  holder_id           TEXT NOT NULL,
  holder_external_id  TEXT NOT NULL,
  requested_value     TEXT NOT NULL,
  assigned_value      TEXT NOT NULL,
  holder_old_value    TEXT,
  holder_new_value    TEXT
) STRICT;
CREATE INDEX audit_log_account ON audit_log (account_external_id);
CREATE INDEX audit_log_holder ON audit_log (holder_external_id);
