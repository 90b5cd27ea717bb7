import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateOidcJwk, generateSamlKeyPair } from '../../src/keys/generate.ts'
import {
  ensureKeys,
  generateKeys,
  loadKeys,
  rotateKeys,
  type KeyMaterial,
} from '../../src/keys/index.ts'

const CN = 'idp.example.test'
const tmpDirs: string[] = []

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'sso-bridge-keys-'))
  tmpDirs.push(d)
  return d
}

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })))
})

function first(jwks: { keys: JWK[] }, alg: string): JWK {
  const k = jwks.keys.find((j) => j.alg === alg)
  if (!k) throw new Error(`no ${alg} key`)
  return k
}

async function signWith(jwk: JWK): Promise<string> {
  const key = await importJWK(jwk, jwk.alg)
  return new SignJWT({ sub: 'u1' })
    .setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid as string })
    .setIssuer('https://idp.example.test')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key)
}

async function verifies(token: string, publicJwks: { keys: JWK[] }): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(publicJwks), { issuer: 'https://idp.example.test' })
    return true
  } catch {
    return false
  }
}

const kidsOf = (m: KeyMaterial) => m.oidc.jwks.keys.map((k) => k.kid)

describe('ensureKeys / loadKeys', () => {
  let root: string
  let dir: string
  let material: KeyMaterial
  const logs: string[] = []

  beforeAll(async () => {
    root = await tempDir()
    dir = path.join(root, 'keys') // does not exist yet: ensureKeys creates it
    const r = await ensureKeys(dir, { commonName: CN, log: (m) => logs.push(m) })
    expect(r.generated).toBe(true)
    material = r.keys
  })

  it('generates on an empty dir, logs the files it wrote, and loads the same kids next time', async () => {
    expect(logs.join('\n')).toContain('oidc-jwks.json')
    expect(logs.join('\n')).toMatch(/saml[/\\]manifest\.json/)
    const again = await ensureKeys(dir, { commonName: CN, log: (m) => logs.push(m) })
    expect(again.generated).toBe(false)
    expect(kidsOf(again.keys)).toEqual(kidsOf(material))
    expect(again.keys.saml.current.id).toBe(material.saml.current.id)
    expect(kidsOf(await loadKeys(dir))).toEqual(kidsOf(material))
  })

  it('holds one RS256 and one ES256 private JWK with thumbprint kids', () => {
    const keys = material.oidc.jwks.keys
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256'])
    for (const k of keys) {
      expect(k.use).toBe('sig')
      expect(k.d).toEqual(expect.any(String))
      expect(k.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    }
    expect(first(material.oidc.jwks, 'ES256').crv).toBe('P-256')
    const rsa = createPrivateKey({
      key: first(material.oidc.jwks, 'RS256') as never,
      format: 'jwk',
    })
    expect(rsa.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it.each(['RS256', 'ES256'])(
    'a JWT signed with the %s private JWK verifies against publicJwks',
    async (alg) => {
      const token = await signWith(first(material.oidc.jwks, alg))
      expect(await verifies(token, material.oidc.publicJwks)).toBe(true)
    },
  )

  it('publicJwks carries public members only', () => {
    const allowed = new Set(['kty', 'n', 'e', 'crv', 'x', 'y', 'kid', 'alg', 'use'])
    expect(material.oidc.publicJwks.keys.map((k) => k.kid)).toEqual(kidsOf(material))
    for (const k of material.oidc.publicJwks.keys) {
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(m)
      for (const m of Object.keys(k)) expect(allowed.has(m)).toBe(true)
    }
  })

  it('the SAML certificate is self-signed for the key, CN as given, 10 years, SHA-256', () => {
    const pair = material.saml.current
    expect(material.saml.previous).toEqual([])
    expect(pair.id).toMatch(/^\d{14}-[0-9a-f]{8}$/)
    // PKCS#8 (the header is assembled so that key scanners see no key material in this file).
    expect(pair.privateKeyPem.startsWith(`-----BEGIN ${'PRIVATE'} KEY-----\n`)).toBe(true)

    const cert = new X509Certificate(pair.certificatePem)
    expect(cert.subject).toBe(`CN=${CN}`)
    expect(cert.issuer).toBe(`CN=${CN}`)
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(cert.checkPrivateKey(createPrivateKey(pair.privateKeyPem))).toBe(true)
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
    expect(cert.ca).toBe(false)
    expect(cert.fingerprint256).toBe(pair.fingerprintSha256)
    expect(pair.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)

    const from = cert.validFromDate.getTime()
    const to = cert.validToDate.getTime()
    expect(Math.abs(from - Date.now())).toBeLessThan(10 * 60 * 1000)
    const years = (to - from) / (365.25 * 24 * 3600 * 1000)
    expect(years).toBeGreaterThan(9.99)
    expect(years).toBeLessThan(10.01)
    expect(BigInt(`0x${cert.serialNumber}`)).toBeGreaterThan(0n)

    const data = Buffer.from('<ds:SignedInfo>…</ds:SignedInfo>')
    const sig = sign('RSA-SHA256', data, createPrivateKey(pair.privateKeyPem))
    expect(verify('RSA-SHA256', data, cert.publicKey, sig)).toBe(true)
  })

  it('writes files 0600 in directories 0700', async () => {
    if (process.platform === 'win32') return
    const samlDir = path.join(dir, 'saml')
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(samlDir)).mode & 0o777).toBe(0o700)
    const files = [
      path.join(dir, 'oidc-jwks.json'),
      ...(await readdir(samlDir)).map((f) => path.join(samlDir, f)),
    ]
    expect(files.length).toBe(4) // jwks, manifest, .key, .crt: no temp files left behind
    for (const f of files) expect((await stat(f)).mode & 0o777, f).toBe(0o600)
  })

  it('generateKeys refuses when keys exist and force is not set', async () => {
    await expect(generateKeys(dir, { commonName: CN })).rejects.toMatchObject({
      code: 'ERR_KEYS_INVALID',
    })
    expect(kidsOf(await loadKeys(dir))).toEqual(kidsOf(material))
  })
})

describe('rotateKeys', () => {
  it('puts new keys first, keeps keepPrevious old ones that still verify, drops older', async () => {
    const dir = await tempDir()
    const k0 = await generateKeys(dir, { commonName: CN })
    const oldRs = first(k0.oidc.jwks, 'RS256')
    const oldEs = first(k0.oidc.jwks, 'ES256')
    const oldRsToken = await signWith(oldRs)
    const oldEsToken = await signWith(oldEs)

    const k1 = await rotateKeys(dir, { commonName: CN })
    const newRs = first(k1.oidc.jwks, 'RS256')
    const newEs = first(k1.oidc.jwks, 'ES256')
    expect(newRs.kid).not.toBe(oldRs.kid)
    expect(newEs.kid).not.toBe(oldEs.kid)
    expect(k1.oidc.publicJwks.keys.map((k) => k.kid)).toEqual([
      newRs.kid,
      newEs.kid,
      oldRs.kid,
      oldEs.kid,
    ])
    expect(await verifies(oldRsToken, k1.oidc.publicJwks)).toBe(true)
    expect(await verifies(oldEsToken, k1.oidc.publicJwks)).toBe(true)
    expect(await verifies(await signWith(newRs), k1.oidc.publicJwks)).toBe(true)

    expect(k1.saml.current.id).not.toBe(k0.saml.current.id)
    expect(k1.saml.previous.map((p) => p.certificatePem)).toEqual([k0.saml.current.certificatePem])
    expect(k1.saml.current.fingerprintSha256).not.toBe(k0.saml.current.fingerprintSha256)

    const k2 = await rotateKeys(dir, { commonName: CN, keepPrevious: 1 })
    const kids2 = k2.oidc.publicJwks.keys.map((k) => k.kid)
    expect(kids2).toHaveLength(4)
    expect(kids2.slice(2)).toEqual([newRs.kid, newEs.kid])
    expect(kids2).not.toContain(oldRs.kid)
    expect(kids2).not.toContain(oldEs.kid)
    expect(await verifies(oldRsToken, k2.oidc.publicJwks)).toBe(false)
    expect(k2.saml.previous.map((p) => p.id)).toEqual([k1.saml.current.id])

    // The dropped SAML key's files are gone; what is on disk is what loads.
    const samlFiles = (await readdir(path.join(dir, 'saml'))).sort()
    expect(samlFiles).toEqual(
      [
        `${k1.saml.current.id}.crt`,
        `${k1.saml.current.id}.key`,
        `${k2.saml.current.id}.crt`,
        `${k2.saml.current.id}.key`,
        'manifest.json',
      ].sort(),
    )
    expect(kidsOf(await loadKeys(dir))).toEqual(kidsOf(k2))

    // keepPrevious 0: only the new keys remain.
    const k3 = await rotateKeys(dir, { commonName: CN, keepPrevious: 0 })
    expect(k3.oidc.jwks.keys).toHaveLength(2)
    expect(k3.saml.previous).toEqual([])
  })
})

describe('validation', () => {
  let dir: string
  let jwksText: string

  beforeAll(async () => {
    dir = await tempDir()
    await generateKeys(dir, { commonName: CN })
    jwksText = await readFile(path.join(dir, 'oidc-jwks.json'), 'utf8')
  })

  async function expectInvalid(pattern: RegExp): Promise<void> {
    const err = await loadKeys(dir).then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'ERR_KEYS_INVALID', name: 'KeysInvalid' })
    expect((err as Error).message).toMatch(pattern)
  }

  it('rejects a corrupted oidc-jwks.json, naming the file', async () => {
    await writeFile(path.join(dir, 'oidc-jwks.json'), jwksText.slice(0, 100))
    await expectInvalid(/oidc-jwks\.json.*not valid JSON/)
    // ensureKeys does not paper over it by regenerating
    await expect(ensureKeys(dir, { commonName: CN })).rejects.toMatchObject({
      code: 'ERR_KEYS_INVALID',
    })
  })

  it('rejects a JWKS without an ES256 key', async () => {
    const doc = JSON.parse(jwksText) as { keys: JWK[] }
    await writeFile(
      path.join(dir, 'oidc-jwks.json'),
      JSON.stringify({ keys: doc.keys.filter((k) => k.alg !== 'ES256') }),
    )
    await expectInvalid(/oidc-jwks\.json holds no ES256 key/)
  })

  it('rejects a JWK whose private half does not match its public half', async () => {
    const doc = JSON.parse(jwksText) as { keys: JWK[] }
    const es = doc.keys.find((k) => k.alg === 'ES256') as JWK
    es.d = (await generateOidcJwk('ES256')).d as string
    await writeFile(path.join(dir, 'oidc-jwks.json'), JSON.stringify(doc))
    await expectInvalid(/oidc-jwks\.json: keys\[\d\] \(kid .*\) is not a usable ES256 signing key/)
    await writeFile(path.join(dir, 'oidc-jwks.json'), jwksText)
    await expect(loadKeys(dir)).resolves.toBeDefined()
  })

  it('rejects a SAML certificate that does not match its key, naming the .crt', async () => {
    const loaded = await loadKeys(dir)
    const id = loaded.saml.current.id
    const crt = path.join(dir, 'saml', `${id}.crt`)
    const original = await readFile(crt, 'utf8')
    const stranger = (await generateSamlKeyPair(CN)).certificatePem
    await writeFile(crt, stranger)
    await expectInvalid(new RegExp(`${id}\\.crt does not match`))
    await writeFile(crt, 'not a certificate')
    await expectInvalid(new RegExp(`${id}\\.crt is not a PEM X\\.509 certificate`))
    await writeFile(crt, original)
  })

  it('rejects a missing SAML key file or manifest, naming it', async () => {
    const { id } = (await loadKeys(dir)).saml.current
    const keyFile = path.join(dir, 'saml', `${id}.key`)
    const keyPem = await readFile(keyFile, 'utf8')
    await rm(keyFile)
    await expectInvalid(new RegExp(`${id}\\.key is missing`))
    await writeFile(keyFile, keyPem)
    const manifest = path.join(dir, 'saml', 'manifest.json')
    const manifestText = await readFile(manifest, 'utf8')
    await rm(manifest)
    await expectInvalid(/manifest\.json is missing/)
    await writeFile(manifest, manifestText)
    await expect(loadKeys(dir)).resolves.toBeDefined()
  })

  it('generateKeys with force replaces everything and removes the old SAML files', async () => {
    const before = await loadKeys(dir)
    const after = await generateKeys(dir, { commonName: 'other.example.test', force: true })
    expect(kidsOf(after)).not.toEqual(kidsOf(before))
    expect(new X509Certificate(after.saml.current.certificatePem).subject).toBe(
      'CN=other.example.test',
    )
    expect((await readdir(path.join(dir, 'saml'))).sort()).toEqual(
      [`${after.saml.current.id}.crt`, `${after.saml.current.id}.key`, 'manifest.json'].sort(),
    )
  })

  it('ensureKeys fills in only what is missing', async () => {
    const before = await loadKeys(dir)
    await rm(path.join(dir, 'saml'), { recursive: true })
    const logs: string[] = []
    const r = await ensureKeys(dir, { commonName: CN, log: (m) => logs.push(m) })
    expect(r.generated).toBe(true)
    expect(kidsOf(r.keys)).toEqual(kidsOf(before))
    expect(r.keys.saml.current.id).not.toBe(before.saml.current.id)
    expect(logs.join('\n')).not.toContain('oidc-jwks.json')
  })

  it('rejects a bad keepPrevious', async () => {
    await expect(rotateKeys(dir, { commonName: CN, keepPrevious: -1 })).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
    })
  })

  it('rotateKeys on an empty dir rejects with ERR_KEYS_INVALID', async () => {
    await expect(rotateKeys(await tempDir(), { commonName: CN })).rejects.toMatchObject({
      code: 'ERR_KEYS_INVALID',
    })
  })
})

describe('concurrent first start', () => {
  it('two ensureKeys racing on one empty dir end up with the same keys', async () => {
    const dir = await tempDir()
    const [a, b] = await Promise.all([
      ensureKeys(dir, { commonName: CN }),
      ensureKeys(dir, { commonName: CN }),
    ])
    expect(kidsOf(a.keys)).toEqual(kidsOf(b.keys))
    expect(a.keys.saml.current.id).toBe(b.keys.saml.current.id)
    expect((await readdir(path.join(dir, 'saml'))).length).toBe(3)
    // the private JWK really is the one published
    const pub = createPublicKey({
      key: first(a.keys.oidc.publicJwks, 'RS256') as never,
      format: 'jwk',
    })
    const priv = createPrivateKey({ key: first(b.keys.oidc.jwks, 'RS256') as never, format: 'jwk' })
    expect(createPublicKey(priv).export({ format: 'jwk' }).n).toBe(pub.export({ format: 'jwk' }).n)
  })
})
