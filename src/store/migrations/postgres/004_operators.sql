-- Operator accounts (issue #14): who may sign in to /console. Apart from members: an operator is
-- never a member, and nothing a site sends can create or change one. The TOTP seed is sealed
-- (AES-256-GCM, secrets/totp.ts), never stored in the clear.
CREATE TABLE operators (
  id            TEXT COLLATE "C" PRIMARY KEY, -- UUIDv7
  name          TEXT NOT NULL,
  name_key      TEXT NOT NULL UNIQUE,         -- lower-cased name: one operator per spelling
  password_hash TEXT NOT NULL,                -- argon2id (accounts/passwords.ts)
  totp_seed     TEXT,                         -- null: no second factor set up
  disabled      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at    TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL
);

-- What was done to or by an operator: sign-in, sign-out and every CLI change.
CREATE TABLE operator_audit (
  id      TEXT COLLATE "C" PRIMARY KEY,       -- UUIDv7: time order, page cursor
  at      TIMESTAMPTZ NOT NULL,
  actor   TEXT NOT NULL,                      -- `operator:<name>` or `cli`
  action  TEXT NOT NULL,
  target  TEXT NOT NULL                       -- `operator:<name>`
);
