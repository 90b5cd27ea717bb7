/**
 * @module store/sqlite/operators
 * The operator half of the SQLite store (migrations 004_operators): accounts for /console and
 * their audit log. Writes go through the writer (writer.ts) like every other write.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import { newId } from '../ids.ts'
import type { OperatorRecord, OperatorStore } from '../ports.ts'
import type { Writer } from './writer.ts'

const SQLITE_CONSTRAINT_UNIQUE = 2067

type Row = Record<string, SQLInputValue>

/** The operator methods over one open database (internal to store/sqlite: use `createStore`). */
export function createSqliteOperators(db: DatabaseSync, writer: Writer): OperatorStore {
  const insert = writer.prepare(`
    INSERT INTO operators (id, name, name_key, password_hash, totp_seed, disabled, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
  const byName = db.prepare('SELECT * FROM operators WHERE name_key = ?')
  const byId = db.prepare('SELECT * FROM operators WHERE id = ?')
  const list = db.prepare('SELECT * FROM operators ORDER BY name_key')
  const update = writer.prepare(`
    UPDATE operators SET
      password_hash = coalesce(:password_hash, password_hash),
      totp_seed = CASE WHEN :set_seed THEN :totp_seed ELSE totp_seed END,
      disabled = coalesce(:disabled, disabled),
      updated_at = :now
    WHERE id = :id`)
  const del = writer.prepare('DELETE FROM operators WHERE id = ?')
  const audit = writer.prepare(
    'INSERT INTO operator_audit (id, at, actor, action, target) VALUES (?, ?, ?, ?, ?)',
  )
  const auditList = db.prepare('SELECT * FROM operator_audit ORDER BY id LIMIT ?')

  return {
    async insertOperator(r) {
      const now = new Date().toISOString()
      try {
        insert.run(
          r.id,
          r.name,
          r.name.toLowerCase(),
          r.password_hash,
          r.totp_seed,
          r.disabled ? 1 : 0,
          now,
          now,
        )
        return true
      } catch (err) {
        if ((err as { errcode?: number } | null)?.errcode === SQLITE_CONSTRAINT_UNIQUE) return false
        throw err
      }
    },
    async getOperatorByName(name) {
      const row = byName.get(name.toLowerCase()) as Row | undefined
      return row ? toOperator(row) : null
    },
    async getOperatorById(id) {
      const row = byId.get(id) as Row | undefined
      return row ? toOperator(row) : null
    },
    async listOperators() {
      return (list.all() as Row[]).map(toOperator)
    },
    async updateOperator(id, patch) {
      const result = update.run({
        id,
        now: new Date().toISOString(),
        password_hash: patch.password_hash ?? null,
        set_seed: patch.totp_seed === undefined ? 0 : 1,
        totp_seed: patch.totp_seed ?? null,
        disabled: patch.disabled === undefined ? null : patch.disabled ? 1 : 0,
      })
      return Number(result.changes) === 1
    },
    async deleteOperator(id) {
      return Number(del.run(id).changes) === 1
    },
    async appendOperatorAudit(e) {
      audit.run(newId(), new Date().toISOString(), e.actor, e.action, e.target)
    },
    async listOperatorAudit(limit) {
      return (auditList.all(limit) as Row[]).map((r) => ({
        id: r.id as string,
        at: r.at as string,
        actor: r.actor as string,
        action: r.action as string,
        target: r.target as string,
      }))
    },
  }
}

function toOperator(row: Row): OperatorRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    password_hash: row.password_hash as string,
    totp_seed: row.totp_seed as string | null,
    disabled: row.disabled === 1,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
  }
}
