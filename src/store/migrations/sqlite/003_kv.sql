-- Key-value store (store/ports.ts KvStore): oidc-provider's sessions, grants, codes and tokens,
-- the bridge's login sessions, single-use jtis, replay caches, throttle counters.
-- expires_at: epoch milliseconds, NULL = never; rows at or past it are absent to every read
-- and removed by purges.
CREATE TABLE kv (
  namespace  TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,                     -- a JSON object
  expires_at INTEGER,
  PRIMARY KEY (namespace, key)
) STRICT;
CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;

-- Secondary lookup keys (uid, userCode, grantId, …): one value per name per entry, many
-- entries may share a value. Rewritten with the entry by kvSet; rowid order = write order.
CREATE TABLE kv_index (
  namespace   TEXT NOT NULL,
  key         TEXT NOT NULL,
  index_name  TEXT NOT NULL,
  index_value TEXT NOT NULL,
  PRIMARY KEY (namespace, key, index_name)
) STRICT;
CREATE INDEX kv_index_lookup ON kv_index (namespace, index_name, index_value);

-- An entry's lookup keys go with it, whichever statement removes it.
CREATE TRIGGER kv_drop_indexes AFTER DELETE ON kv BEGIN
  DELETE FROM kv_index WHERE namespace = OLD.namespace AND key = OLD.key;
END;
