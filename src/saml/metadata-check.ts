/**
 * @module saml/metadata-check
 * The console's live check of a SAML integration: the SP's metadata fetched from its URL
 * (web/outbound-get.ts: timeout, size cap, no private addresses unless allowed) and read by the
 * same reader an import uses (sp-metadata.ts), then each setting the metadata states compared
 * with what the integration has: entity ID, every ACS URL with its binding (both ways: one the
 * SP lists that we lack, and one we have that the SP no longer lists), the SLO URL, the signing
 * certificate (when either side has one) and AuthnRequestsSigned.
 */
import type { IntegrationService } from '../integrations/registry.ts'
import { PlatformUnavailable } from '../errors/index.ts'
import { outboundGet } from '../web/outbound-get.ts'
import { settingsFromSpMetadata } from './sp-metadata.ts'
import { samlIntegrationType, type SamlSpSettings } from './sp-settings.ts'

/** One compared setting: what the integration has, what the metadata says, and whether they agree. */
export interface MetadataCheckItem {
  setting: string
  ours: string
  theirs: string
  match: boolean
}

/** What {@link checkSpMetadata} found. */
export interface MetadataCheck {
  url: string
  items: MetadataCheckItem[]
}

/** The base64 body of a PEM certificate, whitespace removed: two spellings of one cert compare equal. */
const certBody = (pem: string | undefined) =>
  (pem ?? '').replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')

const short = (pem: string | undefined) => {
  const b = certBody(pem)
  return b ? `${b.slice(0, 16)}…${b.slice(-16)}` : '(none)'
}

/**
 * Compares metadata settings (as sp-metadata.ts reads them) with an integration's settings.
 * Pure: the comparison the tests pin without a network.
 */
export function compareSpMetadata(
  ours: SamlSpSettings,
  theirs: Record<string, unknown>,
): MetadataCheckItem[] {
  const items: MetadataCheckItem[] = []
  const entity = String(theirs.entity_id ?? '')
  items.push({
    setting: 'entity_id',
    ours: ours.entity_id,
    theirs: entity,
    match: entity === ours.entity_id,
  })
  const theirAcs = (theirs.acs_urls as { url: string; binding: string }[] | undefined) ?? []
  const key = (a: { url: string; binding: string }) => `${a.binding} ${a.url}`
  const ourKeys = new Set(ours.acs_urls.map(key))
  const theirKeys = new Set(theirAcs.map(key))
  for (const a of ours.acs_urls)
    items.push({
      setting: 'acs_urls',
      ours: key(a),
      theirs: theirKeys.has(key(a)) ? key(a) : '(not in the metadata)',
      match: theirKeys.has(key(a)),
    })
  for (const a of theirAcs)
    if (!ourKeys.has(key(a)))
      items.push({ setting: 'acs_urls', ours: '(not registered)', theirs: key(a), match: false })
  if (ours.slo_url !== undefined || theirs.slo_url !== undefined)
    items.push({
      setting: 'slo_url',
      ours: ours.slo_url ?? '(none)',
      theirs: String(theirs.slo_url ?? '(none)'),
      match: ours.slo_url === theirs.slo_url,
    })
  const theirCert = theirs.signing_certificate as string | undefined
  if (ours.signing_certificate !== undefined || theirCert !== undefined)
    items.push({
      setting: 'signing_certificate',
      ours: short(ours.signing_certificate),
      theirs: short(theirCert),
      match: certBody(ours.signing_certificate) === certBody(theirCert),
    })
  const signed = theirs.require_signed_requests === true
  items.push({
    setting: 'require_signed_requests',
    ours: String(ours.require_signed_requests),
    theirs: String(signed),
    match: ours.require_signed_requests === signed,
  })
  return items
}

/**
 * The check for the console (a hook, http/app.ts): fetch, read, compare.
 * @throws {IntegrationNotFound} no `saml` integration `integrationId`
 * @throws {ValidationFailed} `url` not http(s), or a refused address (at `metadata_url`)
 * @throws {PlatformUnavailable} the SP's server failed to answer with a 2xx
 * @throws {SamlRequestInvalid} what came back is not SP metadata (ERR_SAML_SCHEMA, ERR_SAML_DTD…)
 */
export async function checkSpMetadata(
  deps: { integrations: IntegrationService; allowPrivateNetworks?: boolean | undefined },
  integrationId: string,
  url: string,
): Promise<MetadataCheck> {
  const loaded = await deps.integrations.load(integrationId, samlIntegrationType)
  const answer = await outboundGet(url, {
    field: 'metadata_url',
    ...(deps.allowPrivateNetworks ? { allowPrivateNetworks: true } : {}),
  })
  if (answer.status < 200 || answer.status > 299)
    throw new PlatformUnavailable(`the metadata URL answered HTTP ${answer.status}`)
  return { url, items: compareSpMetadata(loaded.settings, settingsFromSpMetadata(answer.body)) }
}
