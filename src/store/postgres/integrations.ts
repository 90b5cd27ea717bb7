/**
 * @module store/postgres/integrations
 * The integration half of the PostgreSQL store. Every write notifies every instance in the same
 * statement (LISTEN/NOTIFY, changes.ts).
 */
import type { IntegrationWrite, Store } from '../ports.ts'
import { notifyIntegrationSql } from './changes.ts'
import type { Db } from './db.ts'
import { toIntegration } from './rows.ts'

/** Named statements: each pooled connection prepares them once and reuses the plan. */
const SQL = {
  putIntegration: {
    name: 'sso_integration_put',
    text: `
  WITH up AS (
    INSERT INTO integrations (id, type, settings, secrets, mapping, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)
    ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, settings = EXCLUDED.settings,
      secrets = EXCLUDED.secrets, mapping = EXCLUDED.mapping, updated_at = EXCLUDED.updated_at
    RETURNING *, (xmax = 0) AS created
  )
  SELECT up.*, ${notifyIntegrationSql('up.id')} IS NULL AS notified FROM up`,
  },
  getIntegration: { name: 'sso_integration_get', text: 'SELECT * FROM integrations WHERE id = $1' },
  listIntegrations: {
    name: 'sso_integration_list',
    text: 'SELECT * FROM integrations ORDER BY id',
  },
  delIntegration: {
    name: 'sso_integration_delete',
    text: `WITH d AS (DELETE FROM integrations WHERE id = $1 RETURNING id) SELECT ${notifyIntegrationSql('d.id')} IS NULL AS notified FROM d`,
  },
} as const

type IntegrationMethods = Pick<
  Store,
  'putIntegration' | 'getIntegration' | 'listIntegrations' | 'deleteIntegration'
>

/** The integration methods of the PostgreSQL store (internal to store/postgres: use `createStore`). */
export function createPostgresIntegrations({ q, changed }: Db): IntegrationMethods {
  return {
    async putIntegration(write: IntegrationWrite) {
      const [row] = await q(SQL.putIntegration, [
        write.id,
        write.type,
        JSON.stringify(write.settings),
        JSON.stringify(write.secrets),
        write.mapping === null ? null : JSON.stringify(write.mapping),
        new Date().toISOString(),
      ])
      return { record: toIntegration(row!), created: row!.created === true }
    },

    async getIntegration(id) {
      const [row] = await q(SQL.getIntegration, [id])
      return row ? toIntegration(row) : null
    },

    async listIntegrations() {
      return (await q(SQL.listIntegrations)).map(toIntegration)
    },

    async deleteIntegration(id) {
      return changed(SQL.delIntegration, [id])
    },
  }
}
