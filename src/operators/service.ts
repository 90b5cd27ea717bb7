/**
 * @module operators/service
 * Operator accounts (issue #14): the people who may sign in to /console. They live in their own
 * table, apart from members: no door, import or site ticket can make or change one, and a member's
 * password never opens the console. Passwords are argon2id like members' (accounts/passwords.ts);
 * the optional second factor is TOTP (operators/totp.ts), its seed sealed at rest by the secret
 * box (secrets/totp.ts: AES-256-GCM, bound to the operator's id).
 * Every change is written to the operator audit log with its actor.
 */
import { randomBytes } from 'node:crypto'
import { hashPassword, verifyPassword } from '../accounts/passwords.ts'
import { OperatorExists, OperatorNotFound, ValidationFailed } from '../errors/index.ts'
import { newId } from '../store/ids.ts'
import type { KvStore, OperatorAuditEntry, OperatorRecord, OperatorStore } from '../store/ports.ts'
import { openTotpSeed, sealTotpSeed, type SecretBox } from '../secrets/index.ts'
import { newTotpSeed, totpStep, totpUri } from './totp.ts'

/** An operator as shown to people and scripts: never the hash or the seed. */
export interface OperatorView {
  name: string
  disabled: boolean
  totp: boolean
  created_at: string
  updated_at: string
}

/** Names are short identifiers, so they read the same in a log line and an audit entry. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** NIST SP 800-63B §5.1.1.2: at least 8 characters; 1024 bounds the hashing work. */
const MIN_PASSWORD = 8
const MAX_PASSWORD = 1024
/** Used TOTP steps are remembered this long: past the window, the code no longer validates. */
const USED_STEP_TTL_MS = 5 * 60_000
const USED_STEPS = 'console:totp-used'

/** The subject of an audit entry about `name`. */
export const operatorActor = (name: string) => `operator:${name}`

/**
 * @param store the operator table and the KV (used TOTP steps, shared by every instance)
 * @param box seals the TOTP seeds at rest (SECRETS_KEY / KEYS_DIR/secrets-key)
 * @param now the clock (tests inject one)
 */
export function createOperatorService({
  store,
  box,
  now = Date.now,
}: {
  store: OperatorStore & KvStore
  box: SecretBox
  now?: () => number
}) {
  const view = (r: OperatorRecord): OperatorView => ({
    name: r.name,
    disabled: r.disabled,
    totp: r.totp_seed !== null,
    created_at: r.created_at,
    updated_at: r.updated_at,
  })

  async function find(name: string): Promise<OperatorRecord> {
    const r = await store.getOperatorByName(name)
    if (!r) throw new OperatorNotFound(name)
    return r
  }

  function checkPassword(password: string): void {
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)
      throw new ValidationFailed([
        {
          path: 'password',
          message: `must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`,
        },
      ])
  }

  const audit = (actor: string, action: string, name: string) =>
    store.appendOperatorAudit({ actor, action, target: operatorActor(name) })

  return {
    /**
     * Creates an operator.
     * @throws {ValidationFailed} a bad name or a password outside 8–1024 characters
     * @throws {OperatorExists}
     */
    async add(name: string, password: string, actor: string): Promise<OperatorView> {
      if (!NAME.test(name))
        throw new ValidationFailed([
          { path: 'name', message: 'must be 1–64 letters, digits, ".", "_" or "-"' },
        ])
      checkPassword(password)
      const record = {
        id: newId(),
        name,
        password_hash: await hashPassword(password),
        totp_seed: null,
        disabled: false,
      }
      if (!(await store.insertOperator(record))) throw new OperatorExists(name)
      await audit(actor, 'operator_added', name)
      return view((await store.getOperatorById(record.id))!)
    },

    /** Every operator, by name. */
    async list(): Promise<OperatorView[]> {
      return (await store.listOperators()).map(view)
    },

    /** @throws {OperatorNotFound} */
    async get(name: string): Promise<OperatorView> {
      return view(await find(name))
    },

    /**
     * Disables (or re-enables) an operator; a disabled one's console session ends at its next
     * request (console/session.ts checks on every request).
     * @throws {OperatorNotFound}
     */
    async setDisabled(name: string, disabled: boolean, actor: string): Promise<OperatorView> {
      const r = await find(name)
      await store.updateOperator(r.id, { disabled })
      await audit(actor, disabled ? 'operator_disabled' : 'operator_enabled', r.name)
      return view((await store.getOperatorById(r.id))!)
    },

    /** @throws {OperatorNotFound} */
    async remove(name: string, actor: string): Promise<void> {
      const r = await find(name)
      await store.deleteOperator(r.id)
      await audit(actor, 'operator_deleted', r.name)
    },

    /** @throws {OperatorNotFound} @throws {ValidationFailed} */
    async resetPassword(name: string, password: string, actor: string): Promise<OperatorView> {
      checkPassword(password)
      const r = await find(name)
      await store.updateOperator(r.id, { password_hash: await hashPassword(password) })
      await audit(actor, 'operator_password_reset', r.name)
      return view((await store.getOperatorById(r.id))!)
    },

    /**
     * Sets up (or replaces) the operator's TOTP second factor with a fresh seed.
     * @param issuer the name the authenticator app shows (SITE_NAME)
     * @returns the otpauth URI to scan; the seed is in it, so show it to the operator only
     * @throws {OperatorNotFound}
     */
    async setupTotp(name: string, issuer: string, actor: string): Promise<{ uri: string }> {
      const r = await find(name)
      const seed = newTotpSeed()
      await store.updateOperator(r.id, { totp_seed: sealTotpSeed(box, r.id, seed) })
      await audit(actor, 'operator_totp_set', r.name)
      return { uri: await totpUri(seed, issuer, r.name) }
    },

    /** Removes the operator's TOTP second factor. @throws {OperatorNotFound} */
    async removeTotp(name: string, actor: string): Promise<OperatorView> {
      const r = await find(name)
      await store.updateOperator(r.id, { totp_seed: null })
      await audit(actor, 'operator_totp_removed', r.name)
      return view((await store.getOperatorById(r.id))!)
    },

    /**
     * The operator when `password` is theirs, else null (unknown name, wrong password). A
     * disabled operator is returned as it is: the caller refuses it and says so.
     */
    async checkSignIn(name: string, password: string): Promise<OperatorRecord | null> {
      const r = await store.getOperatorByName(name)
      if (!r) {
        // Hash anyway, so an unknown name costs what a wrong password does.
        await verifyPassword(password, await dummy())
        return null
      }
      return (await verifyPassword(password, r.password_hash)).ok ? r : null
    },

    /**
     * Checks a TOTP code of `operator`: `ok`, `invalid` (no such code now) or `replayed` (its
     * step was already used by this operator, on any instance: the KV remembers used steps).
     */
    async checkTotp(
      operator: OperatorRecord,
      code: string,
    ): Promise<'ok' | 'invalid' | 'replayed'> {
      if (operator.totp_seed === null) return 'invalid'
      const seed = openTotpSeed(box, operator.id, operator.totp_seed)
      const step = await totpStep(seed, code, now())
      if (step === null) return 'invalid'
      const fresh = await store.kvSetIfAbsent(
        USED_STEPS,
        `${operator.id}:${step}`,
        {},
        { ttlMs: USED_STEP_TTL_MS },
      )
      return fresh ? 'ok' : 'replayed'
    },

    /**
     * Seals every operator's TOTP seed under the box's first key (`sso-bridge secrets rekey`):
     * `resealed` were under an older key, `current` already under the first.
     * @throws {SecretsKeyMissing} a seed sealed under a key no longer configured
     */
    async resealSeeds(): Promise<{ resealed: number; current: number }> {
      const count = { resealed: 0, current: 0 }
      for (const r of await store.listOperators()) {
        if (r.totp_seed === null) continue
        if (!box.isStale(r.totp_seed)) {
          count.current++
          continue
        }
        const seed = openTotpSeed(box, r.id, r.totp_seed)
        await store.updateOperator(r.id, { totp_seed: sealTotpSeed(box, r.id, seed) })
        count.resealed++
      }
      return count
    },

    /** The live record of a signed-in operator (null when deleted since). */
    byId: (id: string) => store.getOperatorById(id),

    /** Writes one audit entry about operator `name`. */
    audit,

    /** The operator audit log, oldest first. */
    listAudit: (limit = 1000): Promise<OperatorAuditEntry[]> => store.listOperatorAudit(limit),
  }
}

/** A real argon2id hash of a random password, made once: verified against for an unknown name. */
let dummyHash: Promise<string> | undefined
const dummy = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')))

/** The operator service {@link createOperatorService} builds. */
export type OperatorService = ReturnType<typeof createOperatorService>
