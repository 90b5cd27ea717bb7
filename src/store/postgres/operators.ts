/**
 * @module store/postgres/operators
 * The operator half of the PostgreSQL store (migrations 004_operators): accounts for /console
 * and their audit log.
 */
import { newId } from '../ids.ts'
import type { OperatorRecord, OperatorStore } from '../ports.ts'
import { isDbError, UNIQUE_VIOLATION, type Db, type Row } from './db.ts'

/** Named statements: each pooled connection prepares them once and reuses the plan. */
const SQL = {
  insert: {
    name: 'sso_operator_insert',
    text: `INSERT INTO operators (id, name, name_key, password_hash, totp_seed, disabled, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
  },
  byName: { name: 'sso_operator_by_name', text: 'SELECT * FROM operators WHERE name_key = $1' },
  byId: { name: 'sso_operator_by_id', text: 'SELECT * FROM operators WHERE id = $1' },
  list: { name: 'sso_operator_list', text: 'SELECT * FROM operators ORDER BY name_key' },
  update: {
    name: 'sso_operator_update',
    text: `UPDATE operators SET
      password_hash = coalesce($2, password_hash),
      totp_seed = CASE WHEN $3 THEN $4 ELSE totp_seed END,
      disabled = coalesce($5, disabled),
      updated_at = $6
      WHERE id = $1`,
  },
  del: { name: 'sso_operator_delete', text: 'DELETE FROM operators WHERE id = $1' },
  audit: {
    name: 'sso_operator_audit_insert',
    text: 'INSERT INTO operator_audit (id, at, actor, action, target) VALUES ($1, $2, $3, $4, $5)',
  },
  auditList: {
    name: 'sso_operator_audit_list',
    text: 'SELECT * FROM operator_audit ORDER BY id LIMIT $1',
  },
} as const

/** The operator methods of the PostgreSQL store (internal to store/postgres: use `createStore`). */
export function createPostgresOperators({ q, changed }: Db): OperatorStore {
  return {
    async insertOperator(r) {
      try {
        await q(SQL.insert, [
          r.id,
          r.name,
          r.name.toLowerCase(),
          r.password_hash,
          r.totp_seed,
          r.disabled,
          new Date().toISOString(),
        ])
        return true
      } catch (err) {
        if (isDbError(err, UNIQUE_VIOLATION)) return false
        throw err
      }
    },
    async getOperatorByName(name) {
      const [row] = await q(SQL.byName, [name.toLowerCase()])
      return row ? toOperator(row) : null
    },
    async getOperatorById(id) {
      const [row] = await q(SQL.byId, [id])
      return row ? toOperator(row) : null
    },
    async listOperators() {
      return (await q(SQL.list)).map(toOperator)
    },
    async updateOperator(id, patch) {
      return changed(SQL.update, [
        id,
        patch.password_hash ?? null,
        patch.totp_seed !== undefined,
        patch.totp_seed ?? null,
        patch.disabled ?? null,
        new Date().toISOString(),
      ])
    },
    async deleteOperator(id) {
      return changed(SQL.del, [id])
    },
    async appendOperatorAudit(e) {
      await q(SQL.audit, [newId(), new Date().toISOString(), e.actor, e.action, e.target])
    },
    async listOperatorAudit(limit) {
      return (await q(SQL.auditList, [limit])).map((r) => ({
        id: String(r.id),
        at: new Date(r.at as string | Date).toISOString(),
        actor: String(r.actor),
        action: String(r.action),
        target: String(r.target),
      }))
    },
  }
}

function toOperator(row: Row): OperatorRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    password_hash: String(row.password_hash),
    totp_seed: (row.totp_seed as string | null) ?? null,
    disabled: row.disabled === true,
    created_at: new Date(row.created_at as string | Date).toISOString(),
    updated_at: new Date(row.updated_at as string | Date).toISOString(),
  }
}
