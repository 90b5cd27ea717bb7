-- The configuration audit log (issue #14): every change to an integration (settings, secrets,
-- mapping; created, updated, deleted) with who made it: `admin-api` (the admin token), `cli`,
-- or `operator:<name>` (the console). Written in the same transaction as the change. `detail`
-- is a JSON object naming what changed (setting and secret names, never a value).
CREATE TABLE config_audit (
  id      TEXT PRIMARY KEY,                  -- UUIDv7: time order, page cursor
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,                     -- integration_created | _updated | _deleted
  target  TEXT NOT NULL,                     -- `integration:<id>`
  detail  TEXT                               -- JSON object, or null
) STRICT;
