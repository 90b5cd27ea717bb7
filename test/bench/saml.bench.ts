/**
 * SAML signing throughput on one core: complete signed login Responses (Assertion signed, then
 * the Response over it — both RSA-SHA256 with the fixture RSA-2048 key, the default of a `saml`
 * integration — with the default mapping's attributes of a typical account), beside raw
 * RSA-2048 `crypto.sign('sha256', …)` of a SignedInfo-sized buffer, measured in the same run
 * (lib.ts `measurePair`: alternating rounds, median).
 *
 * A Response carries two signatures, so two raw RSA operations are its floor: 50 % of the raw
 * rate is the ceiling. Also measured: one signature (assertion only), and samlify's own
 * `createLoginResponse` (the path this door replaced), each against the same baseline. And the
 * inbound side: the checks every AuthnRequest gets, against a bare xmldom parse of it.
 *
 * Where samlify's time went (CPU profile, this machine): about a third in `crypto.sign` with
 * the PEM key parsed again for each of the two signatures, 7 % re-reading the certificate,
 * about 40 % in xmldom parsing/serialising, xpath and C14N of XML it had just written, 7 % GC.
 * The door parses the key once (`signer.ts` `signingKey`) and writes canonical XML directly.
 *
 *   node test/bench/saml.bench.ts      # prints a small table
 *
 * `test/bench/run.ts` imports {@link benchSaml} (group `saml`).
 */
import { createPrivateKey, sign } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { DOMParser } from '@xmldom/xmldom'
import samlify from 'samlify'
import { compileMapping } from '../../src/mapping/index.ts'
import { buildLoginResponse, type SamlAttribute } from '../../src/saml/response.ts'
import { samlIntegrationType } from '../../src/saml/sp-settings.ts'
import { signingKey } from '../../src/saml/signer.ts'
import { inflateMessage, parseSamlXml, samlSchemaValidator } from '../../src/saml/xml-guard.ts'
import { fixtureKeys } from '../helpers/app.ts'
import { typicalAccounts } from './mapping.bench.ts'
import { markdownTable, measurePair, perSec, ratioText } from './lib.ts'

/** The goals: signed responses per second on one core, and as a share of raw RSA-2048. */
const GOAL_PER_SEC = 500
const GOAL_SHARE = 0.45
/**
 * Inbound requests: under 1 ms each for the checks an AuthnRequest gets before anything else
 * (a speed claim that test/saml/validator-soak.test.ts used to make; its test keeps the memory
 * and listener checks, this benchmark the time).
 */
const GOAL_CHECK_PER_SEC = 1000

export interface SamlBenchRow {
  name: string
  ours: number
  baseline: number
  unit: string
  /** What the baseline counts (default: raw RSA-2048 signatures). */
  baselineUnit?: string
  /** Median of the per-round quotients (each round of ours ran next to one of the baseline). */
  ratio: number
  goal: string
}

export interface SamlBenchOptions {
  warmupMs: number
  rounds: number
  minMs: number
}

export async function benchSaml(
  o: SamlBenchOptions = { warmupMs: 500, rounds: 5, minMs: 1000 },
): Promise<SamlBenchRow[]> {
  const pair = fixtureKeys().saml.current
  const key = signingKey(pair.privateKeyPem, pair.certificatePem)
  const raw = createPrivateKey(pair.privateKeyPem)
  const mapping = compileMapping(null, { defaults: samlIntegrationType.defaultMapping })
  const accounts = typicalAccounts(256)
  const mask = accounts.length - 1
  const attributesOf = (i: number): SamlAttribute[] =>
    Object.entries(mapping.apply(accounts[i & mask]!)).flatMap(([name, v]) =>
      v === null || typeof v === 'object' ? [] : [{ name, values: [String(v)] }],
    )
  const input = (i: number, both: boolean) => ({
    idpEntityId: 'https://sso.example.com/saml/metadata',
    spEntityId: 'https://minnit.chat/saml/sp',
    acsUrl: 'https://minnit.chat/saml/acs',
    inResponseTo: `_req${i}`,
    nameId: `pseudonym-${i}`,
    nameIdFormat: 'persistent' as const,
    authnInstant: Date.now(),
    sessionIndex: `_s${i}`,
    attributes: attributesOf(i),
    attributeNameFormat: 'basic' as const,
    signAssertion: true,
    signResponse: both,
  })
  // A SignedInfo is ~600 bytes: the baseline signs that much, fresh bytes each time.
  const signedInfo = Buffer.alloc(600, 0x61)
  let sink = 0
  const rawSign = (i: number) => {
    signedInfo.writeUInt32BE(i, 0)
    sink += sign('sha256', signedInfo, raw).length
  }
  const opts = {
    warmupMs: o.warmupMs,
    rounds: o.rounds,
    minMs: o.minMs,
    minOps: 50,
    maxOps: Number.MAX_SAFE_INTEGER,
  }
  const full = await measurePair(
    async (i) => {
      sink += (await buildLoginResponse(input(i, true), key)).length
    },
    rawSign,
    opts,
  )
  const single = await measurePair(
    async (i) => {
      sink += (await buildLoginResponse(input(i, false), key)).length
    },
    rawSign,
    opts,
  )
  // For reference: samlify's own path (its default template: no attributes, no AuthnStatement).
  samlify.setSchemaValidator(samlSchemaValidator)
  const post = samlify.Constants.namespace.binding.post
  const samlifyIdp = samlify.IdentityProvider({
    entityID: 'https://sso.example.com/saml/metadata',
    privateKey: pair.privateKeyPem,
    signingCert: pair.certificatePem,
    singleSignOnService: [{ Binding: post, Location: 'https://sso.example.com/saml/sso' }],
    singleLogoutService: [{ Binding: post, Location: 'https://sso.example.com/saml/slo' }],
  })
  const samlifySp = samlify.ServiceProvider({
    entityID: 'https://minnit.chat/saml/sp',
    assertionConsumerService: [{ Binding: post, Location: 'https://minnit.chat/saml/acs' }],
    wantAssertionsSigned: true,
    wantMessageSigned: true,
  })
  const reference = await measurePair(
    async (i) => {
      const r = await samlifyIdp.createLoginResponse(
        samlifySp,
        { extract: { request: { id: `_req${i}` } } } as never,
        'post',
        { email: `member${i}@example.test` },
      )
      sink += r.context.length
    },
    rawSign,
    { ...opts, minOps: 20 },
  )
  // Inbound: a Redirect-binding AuthnRequest through the door's checks (bounded inflate, DTD
  // refusal, parse) and the structural validator samlify calls, beside a bare xmldom parse.
  const authnRequest = [
    '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"',
    ' ID="_bench0123456789abcdef" Version="2.0" IssueInstant="2026-11-21T12:00:00.000Z"',
    ' Destination="https://sso.example.com/saml/sso" AssertionConsumerServiceURL="https://minnit.chat/saml/acs"',
    ' ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">',
    '<saml:Issuer>https://minnit.chat/saml/sp</saml:Issuer>',
    '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>',
    '</samlp:AuthnRequest>',
  ].join('')
  const encoded = deflateRawSync(authnRequest).toString('base64')
  const check = await measurePair(
    async () => {
      const xml = inflateMessage(encoded)
      sink += parseSamlXml(xml).root.name.length
      await samlify.SamlLib.isValidXml(xml)
    },
    () => {
      sink += new DOMParser().parseFromString(authnRequest, 'text/xml').documentElement!.tagName
        .length
    },
    { ...opts, minOps: 200 },
  )
  if (sink <= 0) throw new Error('unreachable')
  const share = full.ratio
  return [
    {
      name: 'SAML: signed login Response (Response + Assertion signed, RSA-SHA256), per core',
      ours: full.ours.perSec,
      baseline: full.baseline.perSec,
      unit: 'responses/s',
      ratio: full.ratio,
      goal: `≥ ${GOAL_PER_SEC} responses/s and ≥ ${GOAL_SHARE * 100} % of raw RSA (${full.ours.perSec >= GOAL_PER_SEC && share >= GOAL_SHARE ? 'met' : 'NOT met'}; ceiling 50 %: two RSA signatures)`,
    },
    {
      name: "SAML, for reference: samlify's createLoginResponse (its default template, both signed)",
      ours: reference.ours.perSec,
      baseline: reference.baseline.perSec,
      unit: 'responses/s',
      ratio: reference.ratio,
      goal: '— (what the door does not use for responses)',
    },
    {
      name: 'SAML: login Response, Assertion signed only',
      ours: single.ours.perSec,
      baseline: single.baseline.perSec,
      unit: 'responses/s',
      ratio: single.ratio,
      goal: '— (ceiling 100 %: one RSA signature)',
    },
    {
      name: 'SAML: inbound AuthnRequest checks (inflate, DTD refusal, parse, structural validation)',
      ours: check.ours.perSec,
      baseline: check.baseline.perSec,
      unit: 'requests/s',
      baselineUnit: 'xmldom parses/s',
      ratio: check.ratio,
      goal: `< 1 ms each, ≥ ${GOAL_CHECK_PER_SEC} requests/s (${check.ours.perSec >= GOAL_CHECK_PER_SEC ? 'met' : 'NOT met'}; baseline: a bare xmldom parse)`,
    },
  ]
}

if (import.meta.main) {
  const rows = await benchSaml()
  process.stdout.write(
    `${markdownTable(
      ['benchmark', 'ours', 'baseline (raw RSA-2048 crypto.sign unless said)', 'ratio', 'goal'],
      rows.map((r) => [
        r.name,
        perSec(r.ours).replace('ops/s', r.unit),
        perSec(r.baseline).replace('ops/s', r.baselineUnit ?? 'signatures/s'),
        ratioText(r.ratio),
        r.goal,
      ]),
    )}\n`,
  )
}
