/**
 * @module saml/idp
 * The SAML 2.0 identity provider: samlify entities for metadata and for verifying Redirect
 * request signatures, our own guards around them (xml-guard.ts, redirect-query.ts,
 * verify-signature.ts), and the canonical writer (response.ts) for what goes out.
 *
 * Rules for an inbound AuthnRequest / LogoutRequest (saml-core §3.4.1, §3.7.1, saml-profiles §4.1.4):
 * - size, base64, bounded inflate and no DTD are checked before any XML parser runs;
 * - the Issuer must be the entity_id of a `saml` integration (unknown SP: refused);
 * - HTTP-Redirect: the raw query is parsed once (redirect-query.ts): a duplicated message
 *   parameter is refused, and the message, RelayState, SigAlg and Signature all come from that
 *   one parse — never from express's req.query;
 * - a signature is verified whenever the SP requires one, whenever one is present and the SP
 *   has a certificate, and — for LogoutRequests — whenever the SP has a certificate (an unsigned
 *   one could sign out any member whose NameID is guessable): Redirect by samlify over the
 *   octet string, POST by verify-signature.ts (one signature, under the root, covering the
 *   root); RSA-SHA1 only for an SP that allows it;
 * - once a signature is verified, every field is read from what it covers;
 * - Destination, when given, must be our endpoint;
 * - IssueInstant within ± skew (default 3 min);
 * - the ACS comes from the registration: an AssertionConsumerServiceURL not registered for the
 *   SP, or an index out of range, is refused (never used as given);
 * - each request ID — of the element the signature covers — is accepted once per SP (replay
 *   cache in the KV, `kvSetIfAbsent`).
 */
import { createHmac } from 'node:crypto'
import type Samlify from 'samlify'
import type { Account } from '../accounts/types.ts'
import { hasCode } from '../errors/index.ts'
import type { IntegrationService, LoadedIntegration } from '../integrations/registry.ts'
import { isIntegrationOf } from '../integrations/types.ts'
import type { KeyMaterial } from '../keys/index.ts'
import { listPaths } from '../mapping/index.ts'
import { lazyRequire } from '../lazy.ts'
import type { KvStore } from '../store/ports.ts'
import { SamlRequestInvalid } from './errors.ts'
import { SAML_ROUTES } from './paths.ts'
import { redirectBindingUrl } from './redirect-binding.ts'
import {
  buildErrorResponse,
  buildLoginResponse,
  buildLogoutResponse,
  NAME_ID_FORMAT,
  type SamlAttribute,
} from './response.ts'
import { signingKey, type SigningKey } from './signer.ts'
import { parseRedirectQuery, signedOctets, type RedirectQuery } from './redirect-query.ts'
import { checkSigAlg, verifyEnvelopedSignature } from './verify-signature.ts'
import {
  decodePostMessage,
  inflateMessage,
  LIMITS,
  parseSamlXml,
  samlSchemaValidator,
  type ParsedSaml,
  type XElement,
} from './xml-guard.ts'
import { samlIntegrationType, type SamlSpSettings } from './sp-settings.ts'

// samlify (with xml-crypto, xmldom and node-rsa under it) is loaded on the first SAML message or
// metadata request, not at start-up: a server without SAML integrations never pays for it
// (docs/performance.md). Its schema validator is ours (xml-guard.ts), set once, on that load.
const samlify = lazyRequire<typeof Samlify>('samlify', (s) =>
  s.setSchemaValidator(samlSchemaValidator),
)
type SpEntity = ReturnType<typeof Samlify.ServiceProvider>

export { SAML_ROUTES }

const BINDING = {
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
} as const

/**
 * A message as it arrived: POST form fields, or the raw query string of a Redirect (parsed
 * once, here — see redirect-query.ts).
 */
export type InboundMessage =
  | {
      binding: 'post'
      /** SAMLRequest (base64, possibly deflated). */
      message: unknown
      relayState?: unknown
    }
  | {
      binding: 'redirect'
      /** Everything after `?`, as sent (not decoded). */
      rawQuery: string
    }

/** An AuthnRequest that passed every check: from a registered SP, signed as required, fresh and not replayed. */
export interface VerifiedAuthnRequest {
  integrationId: string
  requestId: string
  acsUrl: string
  relayState: string | undefined
  forceAuthn: boolean
  isPassive: boolean
}

/** A LogoutRequest that passed every check, with where its LogoutResponse must go. */
export interface VerifiedLogoutRequest {
  integrationId: string
  requestId: string
  nameId: string | undefined
  sloUrl: string
  sloBinding: SamlSpSettings['slo_binding']
  relayState: string | undefined
}

/** A LogoutResponse ready to go: a form to auto-post, or a URL to redirect to. */
export type OutboundLogoutResponse =
  { binding: 'HTTP-POST'; url: string; xml: string } | { binding: 'HTTP-Redirect'; url: string }

/** What {@link createSamlIdp} takes: the issuer, signing keys, and the stores for SPs and replay records. */
export interface SamlIdpOptions {
  issuer: string
  keys: KeyMaterial
  kv: KvStore
  integrations: IntegrationService
  /** Accepted IssueInstant skew, ms (default 3 min). */
  skewMs?: number
  /** Lifetime of an issued Assertion, ms (default 5 min). */
  assertionLifetimeMs?: number
  /** Keys the persistent NameID (pseudonymous per SP); never sent anywhere. */
  pairwiseSecret: string
}

const REPLAY_NAMESPACE = 'saml:request-id'

/** Gets `RelayState` as a string within the limit. @throws {SamlRequestInvalid} */
export function relayStateOf(
  value: unknown,
  maxBytes = LIMITS.relayStateBytes,
): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string')
    throw new SamlRequestInvalid('ERR_SAML_RELAY_STATE', 'RelayState must be one string')
  if (Buffer.byteLength(value) > maxBytes)
    throw new SamlRequestInvalid(
      'ERR_SAML_RELAY_STATE',
      `RelayState is longer than ${maxBytes} bytes`,
    )
  return value
}

const child = (node: XElement, ns: string, name: string): XElement | undefined =>
  node.children.find((c) => c.ns === ns && c.name === name)
const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion'

/**
 * Builds the SAML IdP: verifies inbound AuthnRequests and LogoutRequests from the `saml`
 * integrations (signature, issuer, destination, instant, one use of each ID) and builds the
 * signed Responses going back. Knows nothing of HTTP; routes/saml.ts is its face.
 * @example
 * const idp = createSamlIdp({ issuer, keys, kv: store, integrations, pairwiseSecret })
 * const request = await idp.verifyAuthnRequest({ binding: 'post', message: req.body.SAMLRequest, relayState })
 */
export function createSamlIdp(opts: SamlIdpOptions) {
  const skewMs = opts.skewMs ?? 3 * 60_000
  const entityId = `${opts.issuer}${SAML_ROUTES.metadata}`
  const url = (path: string) => `${opts.issuer}${path}`
  const key: SigningKey = signingKey(
    opts.keys.saml.current.privateKeyPem,
    opts.keys.saml.current.certificatePem,
  )
  const certificates = [opts.keys.saml.current, ...opts.keys.saml.previous].map(
    (k) => k.certificatePem,
  )

  const idpSettings = {
    entityID: entityId,
    signingCert: certificates,
    singleSignOnService: [
      { Binding: BINDING.redirect, Location: url(SAML_ROUTES.sso) },
      { Binding: BINDING.post, Location: url(SAML_ROUTES.sso) },
    ],
    singleLogoutService: [
      { Binding: BINDING.redirect, Location: url(SAML_ROUTES.slo) },
      { Binding: BINDING.post, Location: url(SAML_ROUTES.slo) },
    ],
    nameIDFormat: Object.values(NAME_ID_FORMAT),
    messageSigningOrder: 'sign-then-encrypt' as const,
  }
  // Built on first use, with samlify (see above).
  let entities: { verifying: SamlifyIdp; metadataXml: string } | undefined
  type SamlifyIdp = ReturnType<typeof Samlify.IdentityProvider>
  const idpEntities = () =>
    (entities ??= (() => {
      // Two verifiers: samlify decides per IdP whether AuthnRequests must carry a signature; we decide per SP.
      const verifying = samlify().IdentityProvider({
        ...idpSettings,
        wantAuthnRequestsSigned: true,
        wantLogoutRequestSigned: true,
      })
      const lenient = samlify().IdentityProvider({
        ...idpSettings,
        wantAuthnRequestsSigned: false,
        wantLogoutRequestSigned: false,
      })
      return { verifying, metadataXml: lenient.getMetadata() }
    })())

  const spCache = new Map<string, { version: string; entity: SpEntity }>()
  function spEntity(loaded: LoadedIntegration<SamlSpSettings>): SpEntity {
    const s = loaded.settings
    const cached = spCache.get(loaded.record.id)
    if (cached?.version === loaded.record.updated_at) return cached.entity
    const entity = samlify().ServiceProvider({
      entityID: s.entity_id,
      assertionConsumerService: s.acs_urls.map((a) => ({
        Binding: a.binding === 'HTTP-POST' ? BINDING.post : BINDING.redirect,
        Location: a.url,
      })),
      ...(s.slo_url
        ? {
            singleLogoutService: [
              {
                Binding: s.slo_binding === 'HTTP-Redirect' ? BINDING.redirect : BINDING.post,
                Location: s.slo_url,
              },
            ],
          }
        : {}),
      ...(s.signing_certificate ? { signingCert: s.signing_certificate } : {}),
      authnRequestsSigned: s.require_signed_requests,
    })
    spCache.set(loaded.record.id, { version: loaded.record.updated_at, entity })
    return entity
  }

  /** The `saml` integration whose entity_id is `entityIdOf`. @throws {SamlRequestInvalid} ERR_SAML_UNKNOWN_SP */
  async function findSp(spEntityId: string): Promise<LoadedIntegration<SamlSpSettings>> {
    const match = (await opts.integrations.list()).find(
      (i) => i.type === samlIntegrationType.type && i.settings.entity_id === spEntityId,
    )
    if (!match)
      throw new SamlRequestInvalid(
        'ERR_SAML_UNKNOWN_SP',
        'the service provider is not registered here',
      )
    return opts.integrations.load(match.id, samlIntegrationType)
  }

  interface Decoded {
    parsed: ParsedSaml
    relayState: string | undefined
    /** Redirect binding: the message's query parameters, from the one parse. */
    query?: RedirectQuery
  }

  function decode(msg: InboundMessage): Decoded {
    if (msg.binding === 'redirect') {
      const query = parseRedirectQuery(msg.rawQuery)
      const relayState = relayStateOf(query.RelayState?.value)
      return { parsed: parseSamlXml(inflateMessage(query.SAMLRequest?.value)), relayState, query }
    }
    if (Array.isArray(msg.message) || Array.isArray(msg.relayState))
      throw new SamlRequestInvalid(
        'ERR_SAML_DUPLICATE_PARAMETER',
        'the form carries SAMLRequest or RelayState more than once',
      )
    const relayState = relayStateOf(msg.relayState)
    return { parsed: parseSamlXml(decodePostMessage(msg.message)), relayState }
  }

  /**
   * Our decision whether a signature is needed, then its check. Returns the message to read
   * from here on: for an enveloped signature, the element it covers (verify-signature.ts).
   */
  async function verifySignature(
    d: Decoded,
    loaded: LoadedIntegration<SamlSpSettings>,
    kind: 'login' | 'logout',
  ): Promise<ParsedSaml> {
    const s = loaded.settings
    const allowSha1 = s.allow_sha1_signatures === true
    const present = d.query ? d.query.Signature !== undefined : d.parsed.signatures.length > 0
    // An SP that can sign (it registered a certificate) must sign its LogoutRequests.
    const required =
      s.require_signed_requests || (kind === 'logout' && s.signing_certificate !== undefined)
    if (!required && !present) return d.parsed
    if (!s.signing_certificate) {
      if (required)
        throw new SamlRequestInvalid(
          'ERR_SAML_SIGNATURE',
          'the service provider has no signing certificate registered',
        )
      return d.parsed
    }
    if (required && !present)
      throw new SamlRequestInvalid('ERR_SAML_SIGNATURE', 'the request must be signed')
    if (!d.query) return verifyEnvelopedSignature(d.parsed, s.signing_certificate, allowSha1)

    const { SAMLRequest, RelayState, SigAlg, Signature } = d.query
    if (!SigAlg || !Signature || !SAMLRequest)
      throw new SamlRequestInvalid(
        'ERR_SAML_SIGNATURE',
        'the request signature is missing its SigAlg',
      )
    checkSigAlg(SigAlg.value, allowSha1)
    // The values samlify checks are the ones decoded above; the octet string is theirs as sent.
    const req = {
      query: {
        SAMLRequest: SAMLRequest.value,
        ...(RelayState ? { RelayState: RelayState.value } : {}),
        SigAlg: SigAlg.value,
        Signature: Signature.value,
      },
      octetString: signedOctets(d.query, 'SAMLRequest'),
    }
    const { verifying } = idpEntities()
    try {
      if (kind === 'login')
        await verifying.parseLoginRequest(spEntity(loaded), 'redirect', req as never)
      else await verifying.parseLogoutRequest(spEntity(loaded), 'redirect', req as never)
    } catch (err) {
      throw new SamlRequestInvalid(
        'ERR_SAML_SIGNATURE',
        'the request signature is missing or invalid',
        { cause: err },
      )
    }
    return d.parsed
  }

  function checkCommon(root: XElement, endpoint: string): { requestId: string; issuer: string } {
    const requestId = root.attrs.ID
    const issuer = child(root, ASSERTION_NS, 'Issuer')?.text.trim()
    if (!requestId || !issuer || root.attrs.Version !== '2.0')
      throw new SamlRequestInvalid(
        'ERR_SAML_MALFORMED',
        'the request lacks an ID, Issuer or Version 2.0',
      )
    if (root.attrs.Destination !== undefined && root.attrs.Destination !== url(endpoint)) {
      throw new SamlRequestInvalid(
        'ERR_SAML_MALFORMED',
        'the request was meant for another endpoint (Destination)',
      )
    }
    return { requestId, issuer }
  }

  /** The message as signed is the one that was received: same ID, same Issuer (so the same SP's key checked it). */
  function checkSigned(
    signed: XElement,
    received: XElement,
    endpoint: string,
  ): { requestId: string } {
    const { requestId, issuer } = checkCommon(signed, endpoint)
    if (
      signed !== received &&
      (requestId !== received.attrs.ID ||
        issuer !== child(received, ASSERTION_NS, 'Issuer')?.text.trim())
    ) {
      throw new SamlRequestInvalid('ERR_SAML_SIGNATURE', 'the signed element is not the message')
    }
    return { requestId }
  }

  function checkInstant(root: XElement, now: number): void {
    const at = Date.parse(root.attrs.IssueInstant ?? '')
    if (!Number.isFinite(at))
      throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the request has no valid IssueInstant')
    if (Math.abs(now - at) > skewMs)
      throw new SamlRequestInvalid(
        'ERR_SAML_STALE',
        'the request was issued too long ago or in the future (check the clocks)',
      )
  }

  async function once(integrationId: string, requestId: string): Promise<void> {
    if (requestId.length > 256)
      throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the request ID is too long')
    if (
      !(await opts.kv.kvSetIfAbsent(
        REPLAY_NAMESPACE,
        `${integrationId}:${requestId}`,
        {},
        { ttlMs: 2 * skewMs + 60_000 },
      ))
    ) {
      throw new SamlRequestInvalid('ERR_SAML_REPLAYED', 'this request was already used')
    }
  }

  /** The POST ACS for a request: registered only. @throws {SamlRequestInvalid} ERR_SAML_ACS_NOT_REGISTERED */
  function chooseAcs(s: SamlSpSettings, root: XElement): string {
    const post = s.acs_urls.filter((a) => a.binding === 'HTTP-POST')
    const asked = root.attrs.AssertionConsumerServiceURL
    const index = root.attrs.AssertionConsumerServiceIndex
    if (root.attrs.ProtocolBinding !== undefined && root.attrs.ProtocolBinding !== BINDING.post) {
      throw new SamlRequestInvalid(
        'ERR_SAML_UNSUPPORTED',
        'only the HTTP-POST binding is offered for responses',
      )
    }
    if (asked !== undefined) {
      if (!post.some((a) => a.url === asked))
        throw new SamlRequestInvalid(
          'ERR_SAML_ACS_NOT_REGISTERED',
          'the AssertionConsumerServiceURL is not registered for this service provider',
        )
      return asked
    }
    if (index !== undefined) {
      const a = /^\d{1,3}$/.test(index) ? s.acs_urls[Number(index)] : undefined
      if (!a || a.binding !== 'HTTP-POST')
        throw new SamlRequestInvalid(
          'ERR_SAML_ACS_NOT_REGISTERED',
          'the AssertionConsumerServiceIndex is not a registered HTTP-POST ACS',
        )
      return a.url
    }
    const first = post[0]
    if (!first)
      throw new SamlRequestInvalid(
        'ERR_SAML_ACS_NOT_REGISTERED',
        'the service provider has no HTTP-POST ACS registered',
      )
    return first.url
  }

  function nameIdOf(loaded: LoadedIntegration<SamlSpSettings>, account: Account): string {
    const s = loaded.settings
    switch (s.name_id_format) {
      case 'persistent':
        return createHmac('sha256', opts.pairwiseSecret)
          .update(`saml-nameid\0${s.entity_id}\0${account.id}`)
          .digest('base64url')
      case 'emailAddress':
        if (!account.email)
          throw new SamlRequestInvalid(
            'ERR_SAML_UNSUPPORTED',
            'this account has no email address, which the service provider needs',
          )
        return account.email
      case 'unspecified':
        return account.username ?? account.external_id
    }
  }

  /** The mapped document as SAML attributes: one per leaf path; arrays become multi-valued. */
  function attributesOf(
    loaded: LoadedIntegration<SamlSpSettings>,
    account: Account,
  ): SamlAttribute[] {
    const doc = loaded.mapping.apply(account)
    const out: SamlAttribute[] = []
    for (const [name, value] of Object.entries(doc)) {
      if (value === null || value === undefined) continue
      if (Array.isArray(value)) {
        const values = value.filter((v) => v !== null && typeof v !== 'object').map(String)
        if (values.length > 0) out.push({ name, values })
      } else if (typeof value === 'object') {
        for (const p of listPaths(value))
          if (p.value !== null && typeof p.value !== 'object')
            out.push({ name: `${name}.${p.path}`, values: [String(p.value)] })
      } else {
        out.push({ name, values: [String(value)] })
      }
    }
    return out
  }

  return {
    entityId,
    signingKey: key,
    metadata: () => idpEntities().metadataXml,
    url,

    /**
     * Everything about an AuthnRequest except who signs in.
     * @throws {SamlRequestInvalid} with a `reply` when a SAML error Response can go back
     */
    async verifyAuthnRequest(msg: InboundMessage, now = Date.now()): Promise<VerifiedAuthnRequest> {
      const d = decode(msg)
      if (d.parsed.root.name !== 'AuthnRequest')
        throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the message is not an AuthnRequest')
      const loaded = await findSp(checkCommon(d.parsed.root, SAML_ROUTES.sso).issuer)
      // From here on, only what the signature covers (the whole message when unsigned).
      const { root } = await verifySignature(d, loaded, 'login')
      const { requestId } = checkSigned(root, d.parsed.root, SAML_ROUTES.sso)
      const s = loaded.settings
      const acsUrl = chooseAcs(s, root)
      const relayState = d.relayState
      try {
        checkInstant(root, now)
        await once(loaded.record.id, requestId)
      } catch (err) {
        // The SP and its ACS are known: the protocol's answer is an error Response (Requester).
        if (err instanceof SamlRequestInvalid)
          throw err.withReply({ integrationId: loaded.record.id, acsUrl, requestId, relayState })
        throw err
      }
      return {
        integrationId: loaded.record.id,
        requestId,
        acsUrl,
        relayState,
        forceAuthn: root.attrs.ForceAuthn === 'true' || root.attrs.ForceAuthn === '1',
        isPassive: root.attrs.IsPassive === 'true' || root.attrs.IsPassive === '1',
      }
    },

    /** @throws {SamlRequestInvalid} */
    async verifyLogoutRequest(
      msg: InboundMessage,
      now = Date.now(),
    ): Promise<VerifiedLogoutRequest> {
      const d = decode(msg)
      if (d.parsed.root.name !== 'LogoutRequest')
        throw new SamlRequestInvalid(
          'ERR_SAML_UNSUPPORTED',
          'only LogoutRequests are accepted here',
        )
      const loaded = await findSp(checkCommon(d.parsed.root, SAML_ROUTES.slo).issuer)
      const s = loaded.settings
      if (!s.slo_url)
        throw new SamlRequestInvalid(
          'ERR_SAML_UNSUPPORTED',
          'the service provider has no SLO URL registered',
        )
      const { root } = await verifySignature(d, loaded, 'logout')
      const { requestId } = checkSigned(root, d.parsed.root, SAML_ROUTES.slo)
      checkInstant(root, now)
      await once(loaded.record.id, requestId)
      return {
        integrationId: loaded.record.id,
        requestId,
        nameId: child(root, ASSERTION_NS, 'NameID')?.text.trim(),
        sloUrl: s.slo_url,
        sloBinding: s.slo_binding ?? 'HTTP-POST',
        relayState: d.relayState,
      }
    },

    /** The signed login Response (XML) for `account`. `inResponseTo` absent: IdP-initiated. */
    async loginResponse(a: {
      integrationId: string
      acsUrl?: string
      inResponseTo?: string
      account: Account
      authTime: number
      sessionIndex: string
      now?: number
    }): Promise<{ xml: string; acsUrl: string }> {
      const loaded = await opts.integrations.load(a.integrationId, samlIntegrationType)
      const s = loaded.settings
      const acsUrl = a.acsUrl ?? s.acs_urls.find((x) => x.binding === 'HTTP-POST')?.url
      if (!acsUrl)
        throw new SamlRequestInvalid(
          'ERR_SAML_ACS_NOT_REGISTERED',
          'the service provider has no HTTP-POST ACS registered',
        )
      const xml = await buildLoginResponse(
        {
          idpEntityId: entityId,
          spEntityId: s.entity_id,
          acsUrl,
          inResponseTo: a.inResponseTo,
          nameId: nameIdOf(loaded, a.account),
          nameIdFormat: s.name_id_format,
          authnInstant: a.authTime * 1000,
          sessionIndex: a.sessionIndex,
          attributes: attributesOf(loaded, a.account),
          attributeNameFormat: s.attribute_name_format,
          signAssertion: s.sign_assertion,
          signResponse: s.sign_response,
          encryptionCertificate: s.encryption_certificate,
          ...(opts.assertionLifetimeMs ? { lifetimeMs: opts.assertionLifetimeMs } : {}),
          ...(a.now ? { now: a.now } : {}),
        },
        key,
      )
      return { xml, acsUrl }
    },

    /** The NameID `account` has at SP `integrationId`, or undefined when it has none there (no email for an emailAddress SP). */
    async nameIdFor(integrationId: string, account: Account): Promise<string | undefined> {
      try {
        return nameIdOf(await opts.integrations.load(integrationId, samlIntegrationType), account)
      } catch (err) {
        if (err instanceof SamlRequestInvalid) return undefined
        throw err
      }
    },

    /**
     * What the SP would receive for `account` (the console's Test page): the NameID with its
     * format, and the attribute statement, built by the same functions as a real Response.
     * @throws {IntegrationNotFound}
     * @throws {SamlRequestInvalid} ERR_SAML_UNSUPPORTED: the account has no NameID here (no email)
     */
    async preview(
      integrationId: string,
      account: Account,
    ): Promise<{
      nameId: string
      nameIdFormat: string
      attributes: SamlAttribute[]
      acsUrl: string | undefined
    }> {
      const loaded = await opts.integrations.load(integrationId, samlIntegrationType)
      const s = loaded.settings
      return {
        nameId: nameIdOf(loaded, account),
        nameIdFormat: NAME_ID_FORMAT[s.name_id_format],
        attributes: attributesOf(loaded, account),
        acsUrl: s.acs_urls.find((x) => x.binding === 'HTTP-POST')?.url,
      }
    },

    /** A `saml` integration by id, or null (absent or another type). */
    async loadSp(integrationId: string): Promise<LoadedIntegration<SamlSpSettings> | null> {
      try {
        const loaded = await opts.integrations.load(integrationId)
        return isIntegrationOf(loaded, samlIntegrationType) ? loaded : null
      } catch (err) {
        if (hasCode(err, 'ERR_INTEGRATION_NOT_FOUND')) return null
        throw err
      }
    },

    /**
     * A signed error Response. `noPassive`: saml-core §3.2.2.2 — the request said IsPassive and
     * the member could only be signed in with an interaction (Responder / NoPassive); otherwise
     * Requester / RequestDenied.
     */
    errorResponse(a: {
      acsUrl: string
      inResponseTo?: string
      message: string
      noPassive?: boolean
    }): string {
      return buildErrorResponse(
        {
          idpEntityId: entityId,
          acsUrl: a.acsUrl,
          inResponseTo: a.inResponseTo,
          status: a.noPassive ? 'responder' : 'requester',
          subStatus: a.noPassive
            ? 'urn:oasis:names:tc:SAML:2.0:status:NoPassive'
            : 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
          message: a.message,
        },
        key,
      )
    },

    /** The signed LogoutResponse to a verified LogoutRequest, in the binding the SP registered for its SLO URL. */
    logoutResponse(
      v: Pick<VerifiedLogoutRequest, 'sloUrl' | 'sloBinding' | 'requestId' | 'relayState'>,
    ): OutboundLogoutResponse {
      const enveloped = v.sloBinding !== 'HTTP-Redirect'
      const xml = buildLogoutResponse(
        { idpEntityId: entityId, destination: v.sloUrl, inResponseTo: v.requestId, enveloped },
        key,
      )
      if (enveloped) return { binding: 'HTTP-POST', url: v.sloUrl, xml }
      return {
        binding: 'HTTP-Redirect',
        url: redirectBindingUrl(v.sloUrl, 'SAMLResponse', xml, v.relayState, key),
      }
    },
  }
}

/** The SAML IdP {@link createSamlIdp} builds; one per process. */
export type SamlIdp = ReturnType<typeof createSamlIdp>
