/**
 * Issue #11: one table of account fields (store/account-fields.ts), from which every list of
 * fields is derived. Each test walks the table, so a field added to it (with its migration) is
 * checked by all of them without touching this file: the admin API and an import take it, the
 * mapping reads it, a site ticket carries it when the table says so, and the store gives it back.
 * Real app, real SQLite store, tickets signed with jose; the PostgreSQL side and the migrated
 * columns of both databases are in test/store/account-fields.test.ts.
 */
import { createSecretKey, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import request from 'supertest'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  ACCOUNT_FIELD_NAMES,
  ADMIN_FIELDS,
  fieldSpec,
  MAPPING_FIELD_NAMES,
  TICKET_FIELD_NAMES,
  withDefaults,
  type Account,
  type AccountFieldName,
} from '../../src/accounts/types.ts'
import { accountInputSchema } from '../../src/accounts/input.ts'
import { applyTicket, createTicketVerifier, TICKET_FIELDS } from '../../src/login/ticket.ts'
import { compileMapping, SOURCE_FIELDS } from '../../src/mapping/index.ts'
import { ACCOUNT_WRITE_COLUMNS } from '../../src/store/columns.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const apps: TestApp[] = []
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})
function app(): TestApp {
  const t = makeTestApp()
  apps.push(t)
  return t
}

const ISSUER = 'http://localhost:3000'
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'

/** Every field's example, as a write would send it. */
const examples = () =>
  Object.fromEntries(ACCOUNT_FIELD_NAMES.map((name) => [name, fieldSpec(name).example]))

describe('the account field table', () => {
  it('has at least the fields the bridge has always had, each with a valid example', () => {
    expect(ACCOUNT_FIELD_NAMES).toEqual(
      expect.arrayContaining(['username', 'email', 'given_name', 'timezone', 'profile', 'status']),
    )
    for (const name of ACCOUNT_FIELD_NAMES) {
      const spec = fieldSpec(name)
      expect(spec.schema.safeParse(spec.example).success, name).toBe(true)
      // A field that is not nullable needs a default for a write that leaves it out.
      if (!spec.nullable) expect(spec.default, name).not.toBeUndefined()
    }
  })

  it('types the account from the table', () => {
    expectTypeOf<Account['given_name']>().toEqualTypeOf<string | null>()
    expectTypeOf<Account['email_verified']>().toEqualTypeOf<boolean>()
    expectTypeOf<Account['rank']>().toEqualTypeOf<
      'visitor' | 'regular' | 'moderator' | 'manager' | 'owner'
    >()
    expectTypeOf<AccountFieldName>().toExtend<keyof Account>()
  })

  it('every admin field is accepted by the admin API and read back as written; a refused value changes nothing', async () => {
    const t = app()
    const body = Object.fromEntries(ADMIN_FIELDS.map((name) => [name, fieldSpec(name).example]))
    const put = await request(t.app).put('/api/v1/users/42').set(auth).send(body)
    expect(put.status).toBe(201)
    const got = await request(t.app).get('/api/v1/users/42').set(auth)
    expect(got.status).toBe(200)
    for (const name of ADMIN_FIELDS) expect(got.body[name], name).toEqual(fieldSpec(name).example)

    for (const name of ADMIN_FIELDS) {
      // A number fits none of the fields' schemas.
      const bad = await request(t.app)
        .put('/api/v1/users/42')
        .set(auth)
        .send({ ...body, [name]: 12345 })
      expect(bad.status, name).toBe(400)
      expect(bad.body.error, name).toBe('validation_failed')
      expect(bad.body.details.issues, name).toContainEqual(expect.objectContaining({ path: name }))
    }
    const after = await request(t.app).get('/api/v1/users/42').set(auth)
    expect(after.body).toEqual(got.body)
  })

  it('a field left out of a write takes its default', async () => {
    const t = app()
    await request(t.app).put('/api/v1/users/7').set(auth).send({}).expect(201)
    const got = await request(t.app).get('/api/v1/users/7').set(auth)
    const defaults = withDefaults({})
    for (const name of ACCOUNT_FIELD_NAMES) expect(got.body[name], name).toEqual(defaults[name])
  })

  it('the input schema takes exactly the admin fields besides external_id and passwords', () => {
    const keys = Object.keys(accountInputSchema.shape)
    expect(keys.sort()).toEqual(
      ['external_id', 'password', 'password_hash', ...ADMIN_FIELDS].sort(),
    )
  })

  it('every admin field is read from an import (CSV, by the column kinds of the table)', async () => {
    const t = app()
    const cell = (name: AccountFieldName) => {
      const v = fieldSpec(name).example
      const text = typeof v === 'object' ? JSON.stringify(v) : String(v)
      return `"${text.replaceAll('"', '""')}"`
    }
    const csv = `external_id,${ADMIN_FIELDS.join(',')}\n99,${ADMIN_FIELDS.map(cell).join(',')}\n`
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'text/csv')
      .send(csv)
    expect(res.status).toBe(200)
    const got = await request(t.app).get('/api/v1/users/99').set(auth)
    for (const name of ADMIN_FIELDS) expect(got.body[name], name).toEqual(fieldSpec(name).example)
  })

  it('every mapping field is a mapping source and maps to its value', async () => {
    const t = app()
    await request(t.app).put('/api/v1/users/42').set(auth).send(examples()).expect(201)
    const account = await t.services.accounts.get('42')
    expect(SOURCE_FIELDS).toEqual(expect.arrayContaining([...MAPPING_FIELD_NAMES]))
    const spec = Object.fromEntries(MAPPING_FIELD_NAMES.map((name) => [`out_${name}`, name]))
    const doc = compileMapping(spec).apply(account)
    for (const name of MAPPING_FIELD_NAMES)
      expect(doc[`out_${name}`], name).toEqual(fieldSpec(name).example)
    // A field the table does not expose is refused by name (has_password never is).
    expect(() => compileMapping({ x: 'has_password' })).toThrow(/not an account field/)
  })

  it('every ticket field rides a site ticket into the account; a field the table keeps from tickets is refused', async () => {
    const t = app()
    const verifier = createTicketVerifier({
      secret: SECRET,
      audience: `${ISSUER}/ticket`,
      kv: t.services.store,
    })
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('60s')
        .setAudience(`${ISSUER}/ticket`)
        .setJti(randomUUID())
        .sign(createSecretKey(Buffer.from(SECRET)))
    expect([...TICKET_FIELDS]).toEqual(TICKET_FIELD_NAMES)
    const carried = Object.fromEntries(
      TICKET_FIELD_NAMES.map((name) => [name, fieldSpec(name).example]),
    )
    const ticket = await verifier.verify(await sign({ external_id: 'site-1', ...carried }))
    const { account } = await applyTicket(t.services.accounts, ticket)
    for (const name of TICKET_FIELD_NAMES)
      expect(account[name], name).toEqual(fieldSpec(name).example)

    const kept = ACCOUNT_FIELD_NAMES.filter((name) => !fieldSpec(name).ticket)
    expect(kept).toContain('status')
    for (const name of kept) {
      await expect(
        verifier.verify(await sign({ external_id: 'site-1', [name]: fieldSpec(name).example })),
        name,
      ).rejects.toMatchObject({ code: 'ERR_TICKET_INVALID' })
    }
  })

  it('every field has a column in a write (a unique one also its key and desired columns)', () => {
    for (const name of ACCOUNT_FIELD_NAMES) {
      expect(ACCOUNT_WRITE_COLUMNS, name).toContain(name)
      if (fieldSpec(name).unique) {
        expect(ACCOUNT_WRITE_COLUMNS).toContain(`${name}_key`)
        expect(ACCOUNT_WRITE_COLUMNS).toContain(`desired_${name}`)
      }
    }
  })
})
