-- Accounts: identity is external_id; username/email uniqueness is on their comparison keys
-- (NFKC + case folding, lower-cased email) so the database is the last word under races.
-- COLLATE "C" on the id and the key columns: bytewise comparison as in SQLite (BINARY), so
-- `ORDER BY id` / `id > $cursor` follow creation order and unique checks compare exact bytes,
-- whatever the database's locale (and the indexes skip locale-aware comparison).
CREATE TABLE accounts (
  id             TEXT COLLATE "C" PRIMARY KEY,     -- UUIDv7: time-ordered, used as page cursor
  external_id    TEXT COLLATE "C" NOT NULL UNIQUE,
  username       TEXT,
  username_key   TEXT COLLATE "C" UNIQUE,
  email          TEXT,
  email_key      TEXT COLLATE "C" UNIQUE,
  email_verified BOOLEAN NOT NULL DEFAULT FALSE,
  nickname       TEXT,
  given_name     TEXT,
  family_name    TEXT,
  picture        TEXT,
  rank           TEXT NOT NULL DEFAULT 'regular'
                 CHECK (rank IN ('visitor', 'regular', 'moderator', 'manager', 'owner')),
  title          TEXT,
  locale         TEXT,
  timezone       TEXT,
  profile        JSONB NOT NULL DEFAULT '{}',
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash  TEXT,
  created_at     TIMESTAMPTZ NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE integrations (
  id         TEXT COLLATE "C" PRIMARY KEY,
  type       TEXT NOT NULL,
  settings   JSONB NOT NULL,
  secrets    JSONB NOT NULL,
  mapping    JSONB,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
