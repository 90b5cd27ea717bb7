-- Events (issue #14): one row per sign-in, ticket, token issued, SAML response, logout and
-- refusal, for the console's Activity and Overview pages and GET /api/v1/events. Never a
-- secret, token, password or cookie: only who, where, what and the result code.
-- id: UUIDv7 (time order; the page cursor, newest first).
-- result: 'ok' or the refusal's stable code (ERR_*, errors/codes.ts).
CREATE TABLE events (
  id             TEXT COLLATE "C" PRIMARY KEY,
  at             TIMESTAMPTZ NOT NULL,
  door           TEXT NOT NULL,
  kind           TEXT NOT NULL,
  result         TEXT NOT NULL,
  integration_id TEXT,
  member_id      TEXT,
  request_id     TEXT
);
-- Retention prunes by time; the listing filters narrow by integration or member.
CREATE INDEX events_at ON events (at);
CREATE INDEX events_integration ON events (integration_id, id);
CREATE INDEX events_member ON events (member_id, id);
