/**
 * @module store/postgres/integrations
 * The integration half of the PostgreSQL store. Every write notifies every instance in the same
 * statement (LISTEN/NOTIFY, changes.ts).
 */
import { newId } from '../ids.ts'
import type { ChangeStamp, IntegrationWrite, Store } from '../ports.ts'
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
  // With a change stamp: the change and its config_audit entry in one statement, so one never
  // commits without the other.
  putIntegrationStamped: {
    name: 'sso_integration_put_stamped',
    text: `
  WITH up AS (
    INSERT INTO integrations (id, type, settings, secrets, mapping, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)
    ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, settings = EXCLUDED.settings,
      secrets = EXCLUDED.secrets, mapping = EXCLUDED.mapping, updated_at = EXCLUDED.updated_at
    RETURNING *, (xmax = 0) AS created
  ), stamp AS (
    INSERT INTO config_audit (id, at, actor, action, target, detail)
    SELECT $7, $6, $8,
      COALESCE($10::text, CASE WHEN up.created THEN 'integration_created' ELSE 'integration_updated' END),
      'integration:' || up.id, $9::jsonb FROM up
  )
  SELECT up.*, ${notifyIntegrationSql('up.id')} IS NULL AS notified FROM up`,
  },
  delIntegrationStamped: {
    name: 'sso_integration_delete_stamped',
    text: `WITH d AS (DELETE FROM integrations WHERE id = $1 RETURNING id), stamp AS (
      INSERT INTO config_audit (id, at, actor, action, target, detail)
      SELECT $2, $3, $4, 'integration_deleted', 'integration:' || d.id, $5::jsonb FROM d
    ) SELECT ${notifyIntegrationSql('d.id')} IS NULL AS notified FROM d`,
  },
} as const

type IntegrationMethods = Pick<
  Store,
  'putIntegration' | 'getIntegration' | 'listIntegrations' | 'deleteIntegration'
>

/** The integration methods of the PostgreSQL store (internal to store/postgres: use `createStore`). */
export function createPostgresIntegrations({ q, changed }: Db): IntegrationMethods {
  return {
    async putIntegration(write: IntegrationWrite, stamp?: ChangeStamp) {
      const values = [
        write.id,
        write.type,
        JSON.stringify(write.settings),
        JSON.stringify(write.secrets),
        write.mapping === null ? null : JSON.stringify(write.mapping),
        new Date().toISOString(),
      ]
      const [row] = stamp
        ? await q(SQL.putIntegrationStamped, [
            ...values,
            newId(),
            stamp.actor,
            detailOf(stamp),
            stamp.action ?? null,
          ])
        : await q(SQL.putIntegration, values)
      return { record: toIntegration(row!), created: row!.created === true }
    },

    async getIntegration(id) {
      const [row] = await q(SQL.getIntegration, [id])
      return row ? toIntegration(row) : null
    },

    async listIntegrations() {
      return (await q(SQL.listIntegrations)).map(toIntegration)
    },

    async deleteIntegration(id, stamp?: ChangeStamp) {
      if (!stamp) return changed(SQL.delIntegration, [id])
      return changed(SQL.delIntegrationStamped, [
        id,
        newId(),
        new Date().toISOString(),
        stamp.actor,
        detailOf(stamp),
      ])
    },
  }
}

const detailOf = (stamp: ChangeStamp): string | null =>
  stamp.detail == null ? null : JSON.stringify(stamp.detail)
