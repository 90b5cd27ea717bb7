/**
 * The CLI over a fresh DATA_DIR/KEYS_DIR per test: exit codes and stdout/stderr as an
 * operator's shell sees them, over the real store. No mocks. The cases run the program
 * in-process through its `run()` (test/helpers/cli.ts), so none depends on how fast the machine
 * starts a process; the last test runs the real `npx sso-bridge` to prove the binary itself.
 * Each test owns its directories, so the tests run concurrently.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cliSandbox,
  PROCESS_TEST_TIMEOUT,
  removeSandboxes,
  type CliResult,
} from '../helpers/cli.ts'

type Result = CliResult

afterAll(removeSandboxes)

/** A fresh sandbox: its own DATA_DIR and KEYS_DIR, and a cwd without a `.env`. */
const sandbox = () => cliSandbox('sso-bridge-cli-')

const json = (r: Result) => JSON.parse(r.stdout)
const wireError = (r: Result) => JSON.parse(r.stderr.trim().split('\n').at(-1)!)

describe.concurrent('sso-bridge CLI', () => {
  it('users put/get/list/delete round trip; a validation error names the field, exits 2 and changes nothing', async () => {
    const { cli } = await sandbox()

    const put = await cli([
      'users',
      'put',
      'u1',
      '--data',
      JSON.stringify({
        username: 'Alice',
        email: 'alice@example.test',
        password: 'correct horse battery',
      }),
    ])
    expect(put.code, put.stderr).toBe(0)
    const created = json(put)
    expect(created).toMatchObject({
      external_id: 'u1',
      username: 'Alice',
      email: 'alice@example.test',
      has_password: true,
    })
    expect(put.stdout).not.toContain('correct horse battery')
    expect(put.stdout).not.toContain('password_hash')
    expect(put.stdout).toMatch(/^\{\n {2}"/) // pretty-printed, 2 spaces

    const bad = await cli([
      'users',
      'put',
      'u1',
      '--data',
      JSON.stringify({ username: 'Bob', email: 'not-an-email' }),
    ])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe('')
    const err = wireError(bad)
    expect(err).toMatchObject({ error: 'validation_failed' })
    expect(err.details.issues).toEqual([{ path: 'email', message: expect.any(String) }])

    const get = await cli(['users', 'get', 'u1'])
    expect(get.code).toBe(0)
    expect(json(get)).toEqual(created) // the refused write left the account as it was

    const list = await cli(['users', 'list', '--limit', '10'])
    expect(list.code).toBe(0)
    expect(json(list)).toEqual({ items: [created], next_cursor: null })

    const del = await cli(['users', 'delete', 'u1'])
    expect(del.code).toBe(0)
    expect(json(del)).toEqual({ external_id: 'u1', deleted: true })

    const gone = await cli(['users', 'get', 'u1'])
    expect(gone.code).toBe(1)
    expect(gone.stdout).toBe('')
    expect(wireError(gone)).toEqual({ error: 'user_not_found', message: 'account not found' })
  })

  it('imports a CSV file and NDJSON from stdin, reporting the bad line and committing the rest', async () => {
    const { dir, cli } = await sandbox()
    const csv = path.join(dir, 'users.csv')
    await writeFile(
      csv,
      [
        'external_id,username,email',
        'c1,carol,carol@example.test',
        'c2,dave,not-an-email',
        'c3,erin,erin@example.test',
        '',
      ].join('\n'),
    )

    const fromCsv = await cli(['users', 'import', csv])
    expect(fromCsv.code).toBe(1)
    const csvReport = json(fromCsv)
    expect(csvReport).toMatchObject({
      received: 3,
      accepted: 2,
      created: 2,
      atomic: false,
      committed: true,
    })
    expect(csvReport.rejected).toEqual([
      expect.objectContaining({ line: 3, external_id: 'c2', error: 'validation_failed' }),
    ])
    expect(csvReport.rejected[0].details.issues[0].path).toBe('email')
    expect(wireError(fromCsv).error).toBe('import_rejected')

    const ndjson = [
      '{"external_id":"n1","email":"n1@example.test"}',
      '{"external_id":"n2",',
      '{"external_id":"n3"}',
      '',
    ].join('\n')
    const fromStdin = await cli(['users', 'import', '-', '--format', 'ndjson'], { input: ndjson })
    expect(fromStdin.code).toBe(1)
    const ndReport = json(fromStdin)
    expect(ndReport).toMatchObject({ received: 3, accepted: 2, created: 2, committed: true })
    expect(ndReport.rejected).toEqual([
      expect.objectContaining({ line: 2, error: 'validation_failed' }),
    ])

    const list = await cli(['users', 'list'])
    expect(
      json(list)
        .items.map((a: { external_id: string }) => a.external_id)
        .sort(),
    ).toEqual(['c1', 'c3', 'n1', 'n3'])
  })

  it('--atomic import with one bad line commits nothing', async () => {
    const { dir, cli } = await sandbox()
    const file = path.join(dir, 'users.ndjson')
    await writeFile(
      file,
      [
        '{"external_id":"a1"}',
        '{"external_id":"a2","rank":"emperor"}',
        '{"external_id":"a3"}',
        '',
      ].join('\n'),
    )

    const imported = await cli(['users', 'import', file, '--atomic'])
    expect(imported.code).toBe(1)
    const report = json(imported)
    expect(report).toMatchObject({
      received: 3,
      accepted: 0,
      created: 0,
      atomic: true,
      committed: false,
    })
    expect(report.rejected).toEqual([expect.objectContaining({ line: 2, external_id: 'a2' })])
    expect(report.rejected[0].details.issues[0].path).toBe('rank')

    const list = await cli(['users', 'list'])
    expect(list.code).toBe(0)
    expect(json(list)).toEqual({ items: [], next_cursor: null })
  })

  it('integrations put with an inline secret never shows the secret', async () => {
    const { cli } = await sandbox()
    const secret = 'cli-test-secret-0123456789-abcdefghij'
    const body = JSON.stringify({
      type: 'jwt',
      settings: { audience: 'chat' },
      secrets: { secret },
    })

    const put = await cli(['integrations', 'put', 'chat', '--file', '-'], { input: body })
    expect(put.code, put.stderr).toBe(0)
    const get = await cli(['integrations', 'get', 'chat'])
    expect(get.code).toBe(0)
    expect(json(get)).toMatchObject({
      id: 'chat',
      type: 'jwt',
      settings: { audience: 'chat' },
      secrets: { secret: { source: 'inline', set: true } },
    })
    expect(json(put)).toEqual(json(get))
    for (const out of [put.stdout, put.stderr, get.stdout, get.stderr])
      expect(out).not.toContain(secret)
  })

  it('keys generate, rotate (old and new kids listed), and generate again refuses without --force', async () => {
    const { cli } = await sandbox()
    const issuer = { ISSUER: 'https://idp.example.test' }

    const gen = await cli(['keys', 'generate'], { env: issuer })
    expect(gen.code, gen.stderr).toBe(0)
    const first = json(gen)
    expect(first.oidc.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'RS256'])
    expect(first.saml).toEqual([
      expect.objectContaining({
        signing: true,
        fingerprint_sha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      }),
    ])

    const rot = await cli(['keys', 'rotate'], { env: issuer })
    expect(rot.code, rot.stderr).toBe(0)
    const rotated = json(rot)
    for (const alg of ['RS256', 'ES256']) {
      const kids = rotated.oidc.filter((k: { alg: string }) => k.alg === alg)
      expect(kids).toHaveLength(2)
      expect(kids[0].signing).toBe(true)
      const before = first.oidc.find((k: { alg: string }) => k.alg === alg)
      expect(kids[1]).toEqual({ ...before, signing: false }) // the old key stays, for verification
    }
    expect(rotated.saml.map((k: { id: string }) => k.id)).toEqual([
      expect.any(String),
      first.saml[0].id,
    ])

    // Only public material, ever.
    for (const out of [gen.stdout, rot.stdout])
      expect(out).not.toMatch(/PRIVATE KEY|"d":|BEGIN CERTIFICATE/)

    const again = await cli(['keys', 'generate'], { env: issuer })
    expect(again.code).toBe(1)
    expect(wireError(again).error).toBe('keys_invalid')
  })

  it('keys rotate and secrets rekey are written to the operator audit log as cli: the kids and the key id, never a value', async () => {
    const { cli, dir } = await sandbox()
    const issuer = { ISSUER: 'https://idp.example.test' }
    expect((await cli(['keys', 'generate'], { env: issuer })).code).toBe(0)
    const rot = await cli(['keys', 'rotate'], { env: issuer })
    expect(rot.code, rot.stderr).toBe(0)
    const rekey = await cli(['secrets', 'rekey'], { env: issuer })
    expect(rekey.code, rekey.stderr).toBe(0)

    const audit = json(await cli(['operators', 'audit'], { env: issuer }))
    const kids = json(rot).oidc.map((k: { kid: string }) => k.kid)
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'cli',
        action: 'keys_rotated',
        target: `keys:${kids.join(',')}`,
      }),
      expect.objectContaining({
        actor: 'cli',
        action: 'secrets_rekeyed',
        target: `secrets:${json(rekey).key_id}`,
      }),
    ])
    // Ids only: no key file's content is in the log.
    const text = JSON.stringify(audit)
    const files = await readdir(path.join(dir, 'keys'), { recursive: true, withFileTypes: true })
    for (const f of files.filter((e) => e.isFile())) {
      const content = (await readFile(path.join(f.parentPath, f.name), 'utf8')).trim()
      if (content.length >= 16) expect(text, f.name).not.toContain(content.slice(0, 64))
    }
    expect(text).not.toMatch(/PRIVATE KEY|"d":/)
  })

  it('usage errors exit 2 with a wire error: unknown command, bad option value', async () => {
    const { cli } = await sandbox()
    const unknown = await cli(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(wireError(unknown)).toMatchObject({
      error: 'usage_error',
      message: expect.stringContaining("unknown command 'frobnicate'"),
    })

    const format = await cli(['users', 'import', '-', '--format', 'xml'])
    expect(format.code).toBe(2)
    expect(wireError(format)).toMatchObject({
      error: 'usage_error',
      message: expect.stringContaining('users import --help'),
    })
  })

  it('a bad environment value exits 78 naming the key', async () => {
    const { cli } = await sandbox()
    const r = await cli(['users', 'list'], { env: { PORT: 'abc' } })
    expect(r.code).toBe(78)
    expect(r.stdout).toBe('')
    const err = wireError(r)
    expect(err.error).toBe('config_invalid')
    expect(err.details.issues.map((i: { path: string }) => i.path)).toEqual(['PORT'])
  })

  it('preview shows the mapped document and its paths; paths lists any JSON file or stdin', async () => {
    const { cli } = await sandbox()
    expect(
      (
        await cli([
          'users',
          'put',
          '123',
          '--data',
          JSON.stringify({
            username: 'rob',
            nickname: 'Rob',
            profile: { nicknames: ['Rob', 'Robbie'] },
          }),
        ])
      ).code,
    ).toBe(0)
    const integration = {
      type: 'jwt',
      secrets: { secret: 's'.repeat(32) },
      mapping: {
        'names.nicknames.0': 'profile.nicknames.0',
        'names.nicknames.1': 'profile.nicknames.1',
      },
    }
    expect(
      (
        await cli(['integrations', 'put', 'generic', '--file', '-'], {
          input: JSON.stringify(integration),
        })
      ).code,
    ).toBe(0)
    const preview = await cli(['preview', 'generic', '123'])
    expect(preview.code, preview.stderr).toBe(0)
    expect(json(preview).document).toMatchObject({
      sub: '123',
      preferred_username: 'rob',
      names: { nicknames: ['Rob', 'Robbie'] },
    })
    expect(json(preview).paths).toContainEqual({ path: 'names.nicknames.1', value: 'Robbie' })
    const missing = await cli(['preview', 'generic', 'nobody'])
    expect(missing.code).toBe(1)
    expect(wireError(missing).error).toBe('user_not_found')

    const paths = await cli(['paths', '-'], {
      input: '{"id":123,"names":{"nicknames":["Rob","Robbie"]}}',
    })
    expect(json(paths).paths).toEqual([
      { path: 'id', value: 123 },
      { path: 'names.nicknames.0', value: 'Rob' },
      { path: 'names.nicknames.1', value: 'Robbie' },
    ])
    const bad = await cli(['paths', '-'], { input: '{nope' })
    expect(bad.code).toBe(2)
  })

  it(
    'the binary as an operator runs it (npx sso-bridge): stdin, stdout, stderr, exit codes, .env from the working directory',
    async () => {
      const { dir, binary } = await sandbox()
      const put = await binary(['users', 'put', 'p1', '--file', '-'], {
        input: JSON.stringify({ username: 'Paula', email: 'paula@example.test' }),
      })
      expect(put.code, put.stderr).toBe(0)
      expect(put.stdout).toMatch(/^\{\n {2}"/) // all of it flushed before the process exited
      expect(json(put)).toMatchObject({ external_id: 'p1', username: 'Paula' })

      const gone = await binary(['users', 'get', 'nobody'])
      expect(gone.code).toBe(1)
      expect(gone.stdout).toBe('')
      expect(wireError(gone)).toEqual({ error: 'user_not_found', message: 'account not found' })

      // The server's config includes a `.env` in the working directory; so does the CLI's.
      await writeFile(path.join(dir, '.env'), 'PORT=abc\n')
      const misconfigured = await binary(['users', 'list'])
      expect(misconfigured.code).toBe(78)
      expect(wireError(misconfigured).details.issues.map((i: { path: string }) => i.path)).toEqual([
        'PORT',
      ])
    },
    PROCESS_TEST_TIMEOUT,
  )
})
