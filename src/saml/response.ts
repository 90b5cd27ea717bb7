/**
 * @module saml/response
 * The IdP's outbound messages: the login Response (saml-core §3.3.3 with an Assertion §2.3.3),
 * an error Response (§3.2.2.2 status Requester/Responder), and the LogoutResponse (§3.7.2).
 * Written canonical (see `signer.ts`) and signed with RSA-SHA256 / SHA-256 digests: the
 * Assertion first, then the Response over it. With an SP encryption certificate the signed
 * Assertion is encrypted (xmlenc AES-256-GCM, key by RSA-OAEP) into an EncryptedAssertion and
 * the Response signature is computed by xml-crypto (the ciphertext markup is not ours to write).
 */
import { randomFillSync } from 'node:crypto'
import { xmlCrypto, xmlEncryption } from './libraries.ts'
import { el, NS, signEnveloped, text, type SigningKey } from './signer.ts'

/** The NameID formats this IdP issues (saml-core §8.3), by the short name settings use. */
export const NAME_ID_FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const

/** Attribute NameFormat URIs (saml-core §8.2), by the short name settings use. */
const ATTRIBUTE_NAME_FORMAT = {
  basic: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
  uri: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
} as const

const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
} as const
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const PASSWORD_PROTECTED_TRANSPORT =
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'

// IDs come from a pool of CSPRNG output, each byte used once: a randomBytes call per ID was
// half of the time of writing a Response (measured), the pool refill is one call per 204 IDs.
const ID_BYTES = 20
const pool = Buffer.alloc(ID_BYTES * 204)
let poolAt = pool.length

/** A fresh xs:ID (must not start with a digit): `_` + 160 random bits. */
export function newId(): string {
  if (poolAt + ID_BYTES > pool.length) {
    randomFillSync(pool)
    poolAt = 0
  }
  const id = `_${pool.toString('hex', poolAt, poolAt + ID_BYTES)}`
  poolAt += ID_BYTES
  return id
}
/** xs:dateTime in UTC, whole seconds (SPs differ in how they read fractions). */
export const instant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** One `saml:Attribute`: a name and its values, already mapped from the account. */
export interface SamlAttribute {
  name: string
  values: string[]
}

/** Everything a signed login Response is built from; the caller has already verified the request. */
export interface LoginResponseInput {
  idpEntityId: string
  spEntityId: string
  /** The registered ACS URL the Response goes to (Destination, Recipient). */
  acsUrl: string
  /** The AuthnRequest ID; absent for an IdP-initiated (unsolicited) Response: no attribute at all. */
  inResponseTo?: string | undefined
  nameId: string
  nameIdFormat: keyof typeof NAME_ID_FORMAT
  /** When the member signed in (ms). */
  authnInstant: number
  sessionIndex: string
  attributes: SamlAttribute[]
  attributeNameFormat: keyof typeof ATTRIBUTE_NAME_FORMAT
  signAssertion: boolean
  signResponse: boolean
  /** The SP's encryption certificate (PEM): the Assertion is encrypted. */
  encryptionCertificate?: string | undefined
  now?: number
  /** How long the Assertion may be used, ms (SubjectConfirmationData and Conditions NotOnOrAfter). */
  lifetimeMs?: number
  /** Clock skew allowed to the SP, ms (Conditions NotBefore is this far back). */
  skewMs?: number
}

/** The Assertion element, signed when asked. */
export function buildAssertion(
  i: LoginResponseInput,
  key: SigningKey,
): { id: string; xml: string } {
  const now = i.now ?? Date.now()
  const notOnOrAfter = instant(now + (i.lifetimeMs ?? 5 * 60_000))
  const id = newId()
  const nameFormat = ATTRIBUTE_NAME_FORMAT[i.attributeNameFormat]
  const attributes = i.attributes
    .map((a) =>
      el(
        'saml:Attribute',
        { Name: a.name, NameFormat: nameFormat },
        a.values.map((v) => el('saml:AttributeValue', {}, text(v))).join(''),
      ),
    )
    .join('')
  const body =
    el('saml:Issuer', {}, text(i.idpEntityId)) +
    el(
      'saml:Subject',
      {},
      el(
        'saml:NameID',
        {
          Format: NAME_ID_FORMAT[i.nameIdFormat],
          SPNameQualifier: i.nameIdFormat === 'persistent' ? i.spEntityId : undefined,
        },
        text(i.nameId),
      ) +
        el(
          'saml:SubjectConfirmation',
          { Method: BEARER },
          el(
            'saml:SubjectConfirmationData',
            { InResponseTo: i.inResponseTo, NotOnOrAfter: notOnOrAfter, Recipient: i.acsUrl },
            '',
          ),
        ),
    ) +
    el(
      'saml:Conditions',
      { NotBefore: instant(now - (i.skewMs ?? 60_000)), NotOnOrAfter: notOnOrAfter },
      el('saml:AudienceRestriction', {}, el('saml:Audience', {}, text(i.spEntityId))),
    ) +
    el(
      'saml:AuthnStatement',
      { AuthnInstant: instant(i.authnInstant), SessionIndex: i.sessionIndex },
      el(
        'saml:AuthnContext',
        {},
        el('saml:AuthnContextClassRef', {}, PASSWORD_PROTECTED_TRANSPORT),
      ),
    ) +
    (attributes ? el('saml:AttributeStatement', {}, attributes) : '')
  const xml = el('saml:Assertion', { ID: id, IssueInstant: instant(now), Version: '2.0' }, body, {
    saml: NS.assertion,
  })
  return { id, xml: i.signAssertion ? signEnveloped(xml, id, key) : xml }
}

function statusXml(code: string, message?: string, sub?: string): string {
  const inner = sub ? el('samlp:StatusCode', { Value: sub }, '') : ''
  return el(
    'samlp:Status',
    {},
    el('samlp:StatusCode', { Value: code }, inner) +
      (message ? el('samlp:StatusMessage', {}, text(message)) : ''),
  )
}

function responseXml(
  kind: 'Response' | 'LogoutResponse',
  a: {
    id: string
    destination: string
    inResponseTo?: string | undefined
    now: number
    issuer: string
  },
  inner: string,
): string {
  return el(
    `samlp:${kind}`,
    {
      Destination: a.destination,
      ID: a.id,
      InResponseTo: a.inResponseTo,
      IssueInstant: instant(a.now),
      Version: '2.0',
    },
    el('saml:Issuer', {}, text(a.issuer), { saml: NS.assertion }) + inner,
    { samlp: NS.protocol },
  )
}

/** The login Response (XML text, not yet base64). */
export async function buildLoginResponse(i: LoginResponseInput, key: SigningKey): Promise<string> {
  const now = i.now ?? Date.now()
  const assertion = buildAssertion({ ...i, now }, key)
  const id = newId()
  const head = {
    id,
    destination: i.acsUrl,
    inResponseTo: i.inResponseTo,
    now,
    issuer: i.idpEntityId,
  }
  if (!i.encryptionCertificate) {
    const xml = responseXml('Response', head, statusXml(STATUS.success) + assertion.xml)
    return i.signResponse ? signEnveloped(xml, id, key) : xml
  }
  const encrypted = await encryptAssertion(assertion.xml, i.encryptionCertificate)
  const xml = responseXml(
    'Response',
    head,
    statusXml(STATUS.success) +
      el('saml:EncryptedAssertion', {}, encrypted, { saml: NS.assertion }),
  )
  return i.signResponse ? signWithXmlCrypto(xml, key) : xml
}

/** A Response refusing the request (status Requester / Responder), signed. */
export function buildErrorResponse(
  a: {
    idpEntityId: string
    acsUrl: string
    inResponseTo?: string | undefined
    status: 'requester' | 'responder'
    subStatus?: string
    message?: string
    now?: number
  },
  key: SigningKey,
): string {
  const id = newId()
  const xml = responseXml(
    'Response',
    {
      id,
      destination: a.acsUrl,
      inResponseTo: a.inResponseTo,
      now: a.now ?? Date.now(),
      issuer: a.idpEntityId,
    },
    statusXml(STATUS[a.status], a.message, a.subStatus),
  )
  return signEnveloped(xml, id, key)
}

/**
 * The LogoutResponse (Success unless told otherwise), with an enveloped signature for the
 * HTTP-POST binding; `enveloped: false` for HTTP-Redirect, which signs the query instead
 * (redirect-binding.ts).
 */
export function buildLogoutResponse(
  a: {
    idpEntityId: string
    destination: string
    inResponseTo: string
    success?: boolean
    now?: number
    enveloped?: boolean
  },
  key: SigningKey,
): string {
  const id = newId()
  const xml = responseXml(
    'LogoutResponse',
    {
      id,
      destination: a.destination,
      inResponseTo: a.inResponseTo,
      now: a.now ?? Date.now(),
      issuer: a.idpEntityId,
    },
    statusXml(a.success === false ? STATUS.responder : STATUS.success),
  )
  return a.enveloped === false ? xml : signEnveloped(xml, id, key)
}

function encryptAssertion(assertion: string, certificatePem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlEncryption().encrypt(
      assertion,
      {
        rsa_pub: certificatePem,
        pem: certificatePem,
        encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        disallowEncryptionWithInsecureAlgorithm: true,
        warnInsecureAlgorithm: false,
      },
      (err: Error | null, result: string) => (err ? reject(err) : resolve(result)),
    )
  })
}

function signWithXmlCrypto(xml: string, key: SigningKey): string {
  const sig = new (xmlCrypto().SignedXml)({
    privateKey: key.key.export({ type: 'pkcs8', format: 'pem' }),
    publicCert: `-----BEGIN CERTIFICATE-----\n${key.certificateB64}\n-----END CERTIFICATE-----`,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  })
  sig.addReference({
    xpath: "/*[local-name(.)='Response']",
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  })
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: {
      reference: "/*[local-name(.)='Response']/*[local-name(.)='Issuer']",
      action: 'after',
    },
  })
  return sig.getSignedXml()
}
