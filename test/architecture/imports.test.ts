/**
 * Keeps the dependency direction honest (the house style's rule: config, errors ← store ←
 * accounts, mapping ← integrations, login, web ← doors ← http ← main, cli; each rule is one test
 * below) by reading the imports of every file under src/.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = path.resolve('src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  )
}

const graph = files(SRC).map((file) => {
  const text = readFileSync(file, 'utf8')
  const imports = [
    ...text.matchAll(
      /^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm,
    ),
  ].map((m) => path.relative(SRC, path.resolve(path.dirname(file), (m[1] ?? m[2])!)))
  return { file: path.relative(SRC, file), imports, text }
})

const inside = (p: string, ...dirs: string[]) => dirs.some((d) => p === d || p.startsWith(`${d}/`))

describe('dependency direction', () => {
  it('accounts/ and integrations/ never import a door, http, cli or a concrete store', () => {
    for (const { file, imports } of graph.filter((g) =>
      inside(g.file, 'accounts', 'integrations'),
    )) {
      const bad = imports.filter(
        (i) =>
          inside(i, 'oidc', 'saml', 'tokens', 'http', 'cli', 'store/sqlite', 'store/postgres') ||
          i === 'store/index.ts',
      )
      expect(bad, file).toEqual([])
    }
  })

  // Issue #11: store/ports.ts used to import the conflict resolver (and the Account type) from
  // accounts/, a type-level cycle. The resolver's types now live in the ports, the account shape
  // in store/account.ts, and the resolution loop in accounts/conflicts.ts.
  it('store/ never imports accounts/ or anything else above it (a door, http, cli)', () => {
    const above = [
      'accounts',
      'mapping',
      'integrations',
      'login',
      'web',
      'oidc',
      'saml',
      'tokens',
      'connection',
      'http',
      'cli',
    ]
    for (const { file, imports } of graph.filter((g) => inside(g.file, 'store'))) {
      const bad = imports.filter(
        (i) => inside(i, ...above) || i === 'services.ts' || i === 'main.ts',
      )
      expect(bad, file).toEqual([])
    }
  })

  // Secrets at rest (issue #13): the box is a leaf every layer may use (the registry seals
  // integration secrets, a door what it stores per member, keys/ builds it), so it imports
  // nothing of ours but the error classes.
  it('secrets/ imports nothing but errors/', () => {
    const secrets = graph.filter((g) => inside(g.file, 'secrets'))
    expect(secrets.length).toBeGreaterThan(0)
    for (const { file, imports } of secrets) {
      expect(
        imports.filter((i) => !inside(i, 'secrets', 'errors')),
        file,
      ).toEqual([])
    }
  })

  // Issue #14: every door records events through the one event log, so it sits below them all.
  it('events/ imports no door, no web/, login/, http/ or concrete store', () => {
    const events = graph.filter((g) => inside(g.file, 'events'))
    expect(events.length).toBeGreaterThan(0)
    for (const { file, imports } of events) {
      const bad = imports.filter(
        (i) =>
          inside(i, 'oidc', 'saml', 'tokens', 'login', 'web', 'connection', 'http', 'cli') ||
          inside(i, 'store/sqlite', 'store/postgres') ||
          i === 'store/index.ts' ||
          i === 'services.ts',
      )
      expect(bad, file).toEqual([])
    }
  })

  it('no door (oidc/, saml/, tokens/) imports http/', () => {
    const doors = graph.filter((g) => inside(g.file, 'oidc', 'saml', 'tokens'))
    expect(doors.length).toBeGreaterThan(0)
    for (const { file, imports } of doors) {
      expect(
        imports.filter((i) => inside(i, 'http')),
        file,
      ).toEqual([])
    }
  })

  it('no door imports another door (what two doors share lives below them: login/, integrations/, …)', () => {
    const doors = ['oidc', 'saml', 'tokens']
    for (const door of doors) {
      for (const { file, imports } of graph.filter((g) => inside(g.file, door))) {
        const bad = imports.filter((i) => doors.some((other) => other !== door && inside(i, other)))
        expect(bad, file).toEqual([])
      }
    }
    // The graph does see imports into a door (http/ mounts the OIDC door), so the empty lists above
    // mean no such import, not an unread tree.
    expect(
      graph.some((g) => inside(g.file, 'http') && g.imports.some((i) => inside(i, 'oidc'))),
    ).toBe(true)
  })

  it('only store/index.ts names a store implementation (tests aside)', () => {
    for (const { file, imports } of graph.filter(
      (g) => !inside(g.file, 'store/sqlite', 'store/postgres'),
    )) {
      const bad = imports.filter((i) => inside(i, 'store/sqlite', 'store/postgres'))
      if (file !== 'store/index.ts') expect(bad, file).toEqual([])
    }
  })

  // Each door owns its HTTP face in its own routes/ folder (login's sign-in page and ticket door
  // too); what every door's pages share is web/. Nothing else may know express.
  it("only http/, web/ and a door's or login's routes/ know express", () => {
    const allowed = [
      'http',
      'web',
      'oidc/routes',
      'saml/routes',
      'tokens/routes',
      'login/routes',
      'console/routes',
    ]
    const knowing = graph.filter((g) => /from ['"]express['"]/.test(g.text))
    expect(knowing.some((g) => inside(g.file, 'oidc/routes'))).toBe(true)
    for (const { file } of knowing) expect(inside(file, ...allowed), file).toBe(true)
  })

  it('web/ imports no door, no http/ and none of the routes it serves', () => {
    const web = graph.filter((g) => inside(g.file, 'web'))
    expect(web.length).toBeGreaterThan(0)
    for (const { file, imports } of web) {
      const bad = imports.filter(
        (i) =>
          inside(i, 'oidc', 'saml', 'tokens', 'connection', 'http', 'cli', 'login/routes') ||
          i === 'services.ts' ||
          i === 'main.ts',
      )
      expect(bad, file).toEqual([])
    }
  })

  it('login/ imports no door and no http/ (every door signs its members in through it)', () => {
    const login = graph.filter((g) => inside(g.file, 'login'))
    // login/routes/ does import web/: the graph sees the sign-in page's imports.
    expect(login.some((g) => g.imports.some((i) => inside(i, 'web')))).toBe(true)
    for (const { file, imports } of login) {
      const bad = imports.filter((i) => inside(i, 'oidc', 'saml', 'tokens', 'connection', 'http'))
      expect(bad, file).toEqual([])
    }
  })

  // Issue #11: the doors used to be built in four places (http/app.ts, the token and ticket
  // routes, the CLI). Now services.ts builds the keyless ones (the CLI needs them too) and
  // doors.ts the rest; http/app.ts only mounts what it is handed.
  it('only services.ts and doors.ts build a door or what the sign-ins share', () => {
    const builders = [
      'createOidcProvider',
      'createSamlIdp',
      'createTokenService',
      'createTicketVerifier',
      'createLogoutTicketVerifier',
      'createSignOut',
      'createSessionManager',
      'createCsrf',
      'createPassport',
      'createOnwardTargets',
    ]
    const calls = graph.flatMap(({ file, text }) =>
      builders.filter((b) => new RegExp(`\\b${b}\\(`).test(text)).map((b) => `${file}: ${b}`),
    )
    // Each builder is defined (`function createX(`) in its own module, and called only here.
    const defined = (call: string) => {
      const [file, name] = call.split(': ')
      return graph.some((g) => g.file === file && g.text.includes(`function ${name}(`))
    }
    const callers = calls.filter((c) => !defined(c))
    expect(callers.length).toBeGreaterThan(0)
    for (const c of callers) expect(['services.ts', 'doors.ts']).toContain(c.split(': ')[0])
  })

  it('process.env is read only by the composition roots, which hand it to loadConfig', () => {
    const code = (text: string) =>
      text
        .split('\n')
        .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
        .join('\n')
    const readers = graph.filter((g) => /process\.env\b/.test(code(g.text))).map((g) => g.file)
    expect(readers.length).toBeGreaterThan(0)
    for (const f of readers) expect(['main.ts', 'cli/index.ts']).toContain(f)
  })
})

// Issue #14: operators are apart from members, and the console is a door of its own: it signs
// operators in through operators/ and never reaches into the member doors or the admin API.
it('operators/ imports no door, web/, http/ or console/; console/ imports no member door nor http/', () => {
  const operators = graph.filter((g) => inside(g.file, 'operators'))
  const consoleFiles = graph.filter((g) => inside(g.file, 'console'))
  expect(operators.length).toBeGreaterThan(0)
  expect(consoleFiles.some((g) => g.imports.some((i) => inside(i, 'operators')))).toBe(true)
  for (const { file, imports } of operators) {
    const bad = imports.filter((i) =>
      inside(
        i,
        'oidc',
        'saml',
        'tokens',
        'login',
        'web',
        'http',
        'console',
        'cli',
        'store/sqlite',
        'store/postgres',
      ),
    )
    expect(bad, file).toEqual([])
  }
  for (const { file, imports } of consoleFiles) {
    const bad = imports.filter((i) => inside(i, 'oidc', 'saml', 'tokens', 'http', 'cli'))
    expect(bad, file).toEqual([])
  }
})

describe('sign-out is written once (issues #11, #12)', () => {
  const code = (text: string) =>
    text
      .split('\n')
      .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
      .join('\n')

  it('only login/sign-out.ts ends bridge sessions, and only web/bridge-session.ts clears the cookie', () => {
    const enders = graph
      .filter((g) => /\bendSessions?Of\b|\bendSession\b/.test(code(g.text)))
      .map((g) => g.file)
    expect(enders.sort()).toEqual(['login/session.ts', 'login/sign-out.ts'])
    // Every way out (SAML SLO, OIDC end_session, /logout) goes through the one sign-out.
    for (const file of ['saml/routes/saml.ts', 'oidc/provider.ts', 'login/routes/logout.ts']) {
      const text = code(graph.find((g) => g.file === file)!.text)
      expect(text, file).toMatch(/signOut/)
      expect(text, file).not.toMatch(/sessions\.destroy/)
    }
    // The sessions' KV namespace is login/session.ts's alone: nothing deletes them behind its back.
    const namers = graph
      .filter((g) => /SESSION_NAMESPACE|bridge:session/.test(code(g.text)))
      .map((g) => g.file)
    expect(namers).toEqual(['login/session.ts'])
    for (const { file, text } of graph.filter((g) => g.file !== 'web/bridge-session.ts')) {
      expect(code(text), file).not.toMatch(
        /\.clearCookie\(|cookies\.set\(\s*SESSION_COOKIE|SESSION_COOKIE\}?=;/,
      )
    }
  })
})
