/**
 * @module console/routes/pages/keys
 * `GET /console/keys`: every key the server holds, public facts only — the OIDC signing keys
 * (kid, alg, JWK thumbprint, which signs), the SAML signing certificates (SHA-256 and SHA-1
 * fingerprints as SPs show them, not-after), the ids of the secrets-at-rest keys (never a key),
 * and, per integration, what rotating its secrets means. `POST /console/keys/rotate`: the CLI's
 * `keys rotate` from here (keys/rotation.ts: one rotation at a time on the database; the new keys
 * sign from the next restart).
 */
import { Router, urlencoded } from 'express'
import { KeysRotationRefused } from '../../../errors/index.ts'
import { describeKeys, rotateKeysInUse, type KeyState } from '../../../keys/index.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { consolePath, CONSOLE_ROUTES } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage } from '../page.ts'
import { noticeHtml, withNotice } from './notices.ts'

const STATE_TEXT: Record<KeyState, string> = {
  current: '<span class="badge ok">signing</span>',
  next: '<span class="badge ok">next: signs after restart</span>',
  previous: '<span class="badge">verification only</span>',
  retiring: '<span class="badge bad">retired at restart</span>',
}

/**
 * What rotating means for each integration type, in the operator's terms. A type not listed
 * (one added later) gets the general sentence.
 */
const ROTATION_BY_TYPE: Record<string, string> = {
  oidc: 'OpenID Connect relying parties fetch the JWKS: rotation of the signing keys is seamless once their JWKS cache expires (the previous key stays published). The client secret is the integration’s own: regenerate it on the integration’s page and paste it into the platform.',
  saml: 'SAML service providers hold the certificate: after rotating, give them the new metadata (both certificates are in it) and restart; they must trust the new certificate before the previous one is retired by the next rotation.',
  'minnit-zero-click':
    'Minnit zero-click uses the encryption key you pasted from Minnit: rotate it in Minnit (Organization Settings → SSO) and paste the new one on the integration’s page. The signing keys here play no part.',
  'boostgpt-jwt':
    'BoostGPT verifies with the agent’s SSO secret from its Deploy page: generate a new one there and paste it on the integration’s page.',
  'meltingspot-jwt':
    'MeltingSpot verifies with the private key from the spot’s SSO settings: regenerate it there and paste it on the integration’s page.',
  deadsimplechat:
    'Dead Simple Chat: the API private key comes from Dashboard → Developer; replace it there and here. Tokens already handed to members stay valid.',
  jwt: 'Generic JWT: the shared HMAC secret is set on both sides; change it on the platform and on the integration’s page at the same time.',
}
const ROTATION_OTHER =
  'Its secrets come from the platform: replace them there, then on the integration’s page.'

/** The keys page and its rotate action. */
export const keysPage: ConsolePage = {
  nav: { label: 'Keys', path: CONSOLE_ROUTES.keys, order: 50 },
  routes({ services, hooks, site, csrf }) {
    const router = Router()
    const keys = hooks.keys

    router.get(CONSOLE_ROUTES.keys, noStore, async (req, res) => {
      const { csrf: token } = consoleLocals(res)
      const view = keys ? await describeKeys(keys.loaded, keys.dir) : null
      const integrations = await services.integrations.list()
      const oidcRows = (view?.oidc ?? [])
        .map(
          (
            k,
          ) => `<tr data-kid="${escapeHtml(k.kid)}"><th scope="row"><code>${escapeHtml(k.kid)}</code></th><td>${escapeHtml(k.alg)}</td>
<td><code class="thumbprint">${escapeHtml(k.thumbprint)}</code></td>
<td>${k.createdAt ? `<time datetime="${escapeHtml(k.createdAt)}">${escapeHtml(k.createdAt)}</time><br><small>${age(k.createdAt)}</small>` : '<span class="muted">not recorded</span>'}</td><td>${STATE_TEXT[k.state]}</td></tr>`,
        )
        .join('')
      const samlRows = (view?.saml ?? [])
        .map(
          (
            c,
          ) => `<tr data-saml-id="${escapeHtml(c.id)}"><th scope="row"><code>${escapeHtml(c.id)}</code></th>
<td><time datetime="${escapeHtml(c.createdAt)}">${escapeHtml(c.createdAt)}</time><br><small>${age(c.createdAt)}</small></td>
<td><code class="sha256">${escapeHtml(c.sha256)}</code><br><small>SHA-1</small> <code class="sha1">${escapeHtml(c.sha1)}</code></td>
<td><time datetime="${escapeHtml(c.notAfter)}">${escapeHtml(c.notAfter.slice(0, 10))}</time></td><td>${STATE_TEXT[c.state]}</td></tr>`,
        )
        .join('')
      const platformRows = integrations
        .map(
          (
            i,
          ) => `<tr><th scope="row"><a href="${escapeHtml(consolePath('integration', { id: i.id }))}">${escapeHtml(i.id)}</a></th>
<td>${escapeHtml(i.type)}</td><td>${escapeHtml(ROTATION_BY_TYPE[i.type] ?? ROTATION_OTHER)}</td></tr>`,
        )
        .join('')
      const rotate = !keys
        ? '<p>This server was started without its keys handed to the console, so it cannot rotate them here. Use <code>npx sso-bridge keys rotate</code>.</p>'
        : !keys.dir
          ? '<p>This server has no KEYS_DIR to write to, so rotation is refused here. Use <code>npx sso-bridge keys rotate</code> where the keys live.</p>'
          : `<form method="post" action="${CONSOLE_ROUTES.keysRotate}">
<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<p>Rotating writes a new RS256, ES256 and SAML key to KEYS_DIR, first in line, keeps the current ones published for verification, drops older ones, and records the new set in the database as the keys in use. <strong>This server keeps signing with the keys it loaded until it restarts</strong>; then it signs with the new ones. With several instances on one database, KEYS_DIR must be one shared volume (or copied to every host) before they restart: an instance with the old folder refuses to start (keys_mismatch). SAML service providers need the new metadata before the next rotation retires the current certificate.</p>
<label for="confirm-rotate"><input type="checkbox" id="confirm-rotate" name="confirm" value="yes" required> I have read this: rotate the signing keys</label>
<div class="actions"><button type="submit" class="danger" id="rotate">Rotate signing keys</button></div>
</form>`
      const body = `${noticeHtml(req)}
${view?.restartPending ? '<p class="notice" role="status" id="restart-pending">KEYS_DIR holds newer keys than this server signs with: restart it (every instance) to sign with them.</p>' : ''}
${view?.dirError ? `<div class="error" role="alert"><p>KEYS_DIR cannot be read: ${escapeHtml(view.dirError)}</p></div>` : ''}
<h2>OpenID Connect signing keys</h2>
<p class="hint">Published at <a href="/jwks">/jwks</a>; each token names its key by <code>kid</code>. The thumbprint is RFC 7638's SHA-256 of the public key.</p>
${view ? table('OpenID Connect signing keys', ['Key id (kid)', 'Algorithm', 'JWK thumbprint (SHA-256)', 'Created', 'State'], oidcRows, 'oidc-keys') : '<p>Not available here.</p>'}
<h2>SAML signing certificates</h2>
<p class="hint">In the SAML metadata; SPs pin the certificate or its fingerprint. The SAML door signs only: it holds no encryption key (an SP's encryption certificate is a setting of its integration).</p>
${view ? table('SAML signing certificates', ['Id', 'Created', 'Fingerprint (SHA-256, SHA-1)', 'Not after', 'State'], samlRows, 'saml-keys') : '<p>Not available here.</p>'}
<h2>Secrets at rest</h2>
<p>Integration secrets and operators’ TOTP seeds are sealed (AES-256-GCM) under SECRETS_KEY or KEYS_DIR/secrets-key. Key ids (never the keys): <span id="secrets-key-ids">${services.secrets.keyIds.map((id, i) => `<code>${escapeHtml(id)}</code>${i === 0 ? ' (seals)' : ''}`).join(', ')}</span>. Rotate by putting a new key first in SECRETS_KEY and running <code>npx sso-bridge secrets rekey</code>.</p>
<h2>Rotate the signing keys</h2>
<div class="card">${rotate}</div>
<h2>What rotating means per integration</h2>
${platformRows ? table('Per integration', ['Integration', 'Type', 'Rotating'], platformRows, 'per-platform') : '<p>No integrations yet.</p>'}`
      sendPage(req, res, site, { title: 'Keys', body: raw(body) })
    })

    // The rotate path is a form action; a browser that opens it is sent to the page.
    router.get(CONSOLE_ROUTES.keysRotate, (_req, res) => res.redirect(303, CONSOLE_ROUTES.keys))

    router.post(
      CONSOLE_ROUTES.keysRotate,
      urlencoded({ extended: false, limit: '4kb' }),
      async (req, res) => {
        csrf.check(req)
        if (!keys?.dir)
          throw new KeysRotationRefused(
            'this server has no KEYS_DIR the console may write to; use "npx sso-bridge keys rotate" where the keys live',
          )
        if ((req.body as Record<string, unknown>).confirm !== 'yes')
          throw new KeysRotationRefused(
            'tick the box that says you have read what rotation does; nothing was rotated',
          )
        const material = await rotateKeysInUse({
          dir: keys.dir,
          commonName: keys.commonName,
          kv: services.store,
        })
        await services.store.appendOperatorAudit({
          actor: consoleLocals(res).actor,
          action: 'keys_rotated',
          target: `keys:${material.oidc.publicJwks.keys.map((k) => String(k.kid)).join(',')}`,
        })
        res.redirect(303, withNotice(CONSOLE_ROUTES.keys, 'keys_rotated'))
      },
    )
    return router
  },
}

function table(label: string, heads: string[], rows: string, id: string): string {
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(label)}">
<table id="${id}"><thead><tr>${heads.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** "12 days old". */
function age(iso: string): string {
  const days = Math.floor((Date.now() - Date.parse(iso)) / 86_400_000)
  return days <= 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} old`
}
