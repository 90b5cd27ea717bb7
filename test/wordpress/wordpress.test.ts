/**
 * The WordPress connector (connectors/wordpress/sso-bridge) on a real WordPress: Debian's
 * WordPress 6.1 on nginx + php-fpm + MariaDB (test/helpers/wordpress.ts), the plugin from this
 * repository active, sso-bridge started beside it as `npm start` would run it, and Debian's
 * chromium as the member's and the administrator's browser. Everything listens on 127.0.0.1.
 *
 * One WordPress and one sso-bridge serve every describe block (start-up is the slow part); each
 * test makes its own users. Without the packages or chromium the suite fails with the
 * instruction; it never skips.
 */
import { generateKeyPairSync } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { importSPKI, jwtVerify } from 'jose'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, newContext, recordNavigations, waitForUrl } from '../helpers/browser.ts'
import { startServer, stopServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'
import {
  ADMIN_PASSWORD,
  ADMIN_USER,
  fillWordPressLogin,
  freePort,
  phpString,
  startWordPress,
  type WordPress,
} from '../helpers/wordpress.ts'
import { adminApi } from '../helpers/admin-api.ts'

const ADMIN_TOKEN = 'wordpress-suite-admin-token-0123456789abcdef'
const TICKET_SECRET = 'wordpress-suite-ticket-secret-0123456789abcdef'
const MEMBER_PASSWORD = 'member password 12345'
const CLIENT_ID = 'minnit'
/** Minnit's OAuth2 form reads nested keys from user-info (README "OAuth2 / OpenID Connect"). */
const MAPPING = {
  id: 'external_id',
  'names.full_name': 'nickname',
  'names.nicknames.0': 'username',
}

let wp: WordPress
let bridge: ServerProcess | undefined
let issuer: string
let browser: Browser | undefined
let rp: http.Server | undefined
let callback: string
let rpBase: string
/** Every form POSTed to the relying party / SAML SP, in order. */
const posted: { path: string; body: URLSearchParams }[] = []
let clientSecret: string

/** Calls sso-bridge's admin API. */
function api(method: string, path: string, body?: unknown) {
  return adminApi(issuer, ADMIN_TOKEN)(method, path, body)
}

/** Saves plugin settings over the current ones, and secrets (null clears one), through PHP. */
function configure(
  settings: Record<string, unknown>,
  secrets: Record<string, string | null> = {},
): void {
  wp.php(`
$s = array_replace_recursive(SSO_Bridge_Settings::get(), json_decode(${phpString(JSON.stringify(settings))}, true));
update_option(SSO_Bridge_Settings::OPTION, $s);
foreach (json_decode(${phpString(JSON.stringify(secrets))}, true) as $name => $value) SSO_Bridge_Settings::set_secret($name, $value);
$result = true;`)
}

let users = 0
/** Creates a WordPress user (hooks run: the plugin syncs it) and returns its ID. */
function createUser(fields: Record<string, string> = {}): {
  id: number
  login: string
} {
  const login = fields.user_login ?? `member${++users}`
  const id = wp.php<number>(`
$id = wp_insert_user(array_merge(['user_pass' => ${phpString(MEMBER_PASSWORD)}, 'user_email' => ${phpString(`${login}@example.com`)}, 'role' => 'subscriber'], json_decode(${phpString(JSON.stringify({ ...fields, user_login: login }))}, true)));
if (is_wp_error($id)) throw new Exception($id->get_error_message());
$result = $id;`)
  return { id, login }
}

async function wpLogin(page: Page, login: string, password = MEMBER_PASSWORD) {
  await page.goto(`${wp.url}/wp-login.php`)
  await fillWordPressLogin(page, login, password)
  await Promise.all([page.waitForNavigation(), page.click('#wp-submit')])
  expect(
    (await page.context().cookies(wp.url)).some((c) => c.name.startsWith('wordpress_logged_in_')),
  ).toBe(true)
}

function requireBrowser(): Browser {
  if (!browser) throw new Error('chromium did not start (see the first failure)')
  return browser
}

/** Runs `fn` with a fresh browser context, closed afterwards. */
async function withContext<T>(fn: (context: BrowserContext, page: Page) => Promise<T>): Promise<T> {
  const context = await newContext(requireBrowser())
  try {
    return await fn(context, await context.newPage())
  } finally {
    await context.close()
  }
}

/** The relying party's authorize URL (Minnit's shape: no scope, no PKCE, confidential client). */
function authorizeUrl(state: string): string {
  return `${issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: callback, state })}`
}

/** Minnit's server side: the code for an access token, then user-info. */
async function redeem(code: string) {
  const token = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback,
      client_id: CLIENT_ID,
      client_secret: clientSecret,
    }),
  })
  const tokens = (await token.json()) as Record<string, string>
  expect(token.status, JSON.stringify(tokens)).toBe(200)
  return tokens
}

async function userInfo(accessToken: string) {
  const res = await fetch(`${issuer}/me`, {
    headers: { Authorization: `Bearer ${accessToken}` },
  })
  return {
    status: res.status,
    body: res.status === 200 ? await res.json() : undefined,
  }
}

const handoffUrl = (returnTo: string | null, extra: Record<string, string> = {}) => {
  const q = new URLSearchParams({ sso_bridge: 'login', ...extra })
  if (returnTo !== null) q.set('return_to', returnTo)
  return `${wp.url}/?${q}`
}

/** Every document the page commits to from now on, in order (redirects are not documents). */
function documents(page: Page): string[] {
  const seen: string[] = []
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.push(frame.url())
  })
  return seen
}

const bridgeCookie = async (context: BrowserContext) =>
  (await context.cookies(issuer)).find((c) => c.name === 'sso_bridge')

beforeAll(async () => {
  wp = await startWordPress()
  const port = await freePort()
  issuer = `http://127.0.0.1:${port}`
  bridge = await startServer({
    PORT: String(port),
    ISSUER: issuer,
    ADMIN_TOKEN,
    SITE_TICKET_SECRET: TICKET_SECRET,
    SITE_ORIGINS: wp.url,
    SITE_LOGIN_URL: `${wp.url}/?sso_bridge=login`,
    CONFLICT_USERNAME: 'suffix',
  })
  configure({ bridge_url: issuer }, { ticket_secret: TICKET_SECRET, api_key: ADMIN_TOKEN })

  // The relying party's callback (answers "ok") and the SAML SP's ACS (records each POST).
  rp = http.createServer((req, res) => {
    if (req.method === 'POST') {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        posted.push({
          path: new URL(req.url ?? '/', 'http://127.0.0.1').pathname,
          body: new URLSearchParams(body),
        })
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('posted')
      })
      return
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((resolve) => rp!.listen(0, '127.0.0.1', () => resolve()))
  rpBase = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`
  callback = `${rpBase}/cb`
  const client = await api('PUT', `/integrations/${CLIENT_ID}`, {
    type: 'oidc',
    settings: { redirect_uris: [callback], first_party: true },
    mapping: MAPPING,
  })
  expect(client.status, JSON.stringify(client.body)).toBe(201)
  clientSecret = client.body.generated_secrets.client_secret

  browser = await launchChromium()
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  await browser?.close()
  if (rp) {
    rp.closeAllConnections()
    await new Promise((resolve) => rp!.close(resolve))
  }
  await stopServer(bridge)
  await wp?.stop()
}, PROCESS_TEST_TIMEOUT)

describe('the settings page', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it('shows the values for sso-bridge’s .env and whether each secret is set, never a secret', async () => {
    await withContext(async (_context, page) => {
      await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
      await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
      const html = await page.content()
      const env = await page.locator('#sso-bridge-env').innerText()
      expect(env).toContain(`SITE_LOGIN_URL=${wp.url}/?sso_bridge=login`)
      expect(env).toContain(`SITE_ORIGINS=${wp.url}`)
      expect(env).toContain(`SITE_LOGOUT_URL=${wp.url}/wp-login.php?action=logout`)
      expect(await page.locator('[data-secret=ticket_secret]').innerText()).toBe('set')
      expect(await page.locator('[data-secret=api_key]').innerText()).toBe('set')
      expect(await page.locator('[data-secret=private_key]').innerText()).toBe('not set')
      expect(await page.locator('#sso-bridge-ticket-secret').inputValue()).toBe('')
      expect(html).not.toContain(TICKET_SECRET)
      expect(html).not.toContain(ADMIN_TOKEN)
      expect(await page.locator('#sso-bridge-url').inputValue()).toBe(issuer)
    })
  })

  it('saves a valid form, refuses a bad secret with a clear message and keeps everything as it was', async () => {
    await withContext(async (_context, page) => {
      await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
      const settingsPage = `${wp.url}/wp-admin/options-general.php?page=sso-bridge`
      await page.goto(settingsPage)
      await page.fill('#sso-bridge-ticket-secret', 'too short')
      await page.selectOption('#sso-bridge-rank-editor', 'manager')
      await Promise.all([page.waitForNavigation(), page.click('#submit')])
      expect(await page.getByRole('alert').innerText()).toContain('at least 32 bytes')
      expect(wp.php(`$result = SSO_Bridge_Settings::secret('ticket_secret');`)).toBe(TICKET_SECRET)
      expect(wp.php(`$result = SSO_Bridge_Settings::get()['rank_map']['editor'];`)).toBe(
        'moderator',
      )

      await page.selectOption('#sso-bridge-rank-editor', 'manager')
      await Promise.all([page.waitForNavigation(), page.click('#submit')])
      expect(await page.locator('.notice-success').innerText()).toContain('Settings saved')
      expect(wp.php(`$result = SSO_Bridge_Settings::get()['rank_map']['editor'];`)).toBe('manager')
      expect(wp.php(`$result = SSO_Bridge_Settings::secret('ticket_secret');`)).toBe(TICKET_SECRET)
      expect(await page.content()).not.toContain(TICKET_SECRET)

      await page.selectOption('#sso-bridge-rank-editor', 'moderator')
      await Promise.all([page.waitForNavigation(), page.click('#submit')])
      expect(wp.php(`$result = SSO_Bridge_Settings::get()['rank_map']['editor'];`)).toBe(
        'moderator',
      )
    })
  })

  it('every form refuses a request without its nonce, and a member who may not manage options', async () => {
    await withContext(async (context, page) => {
      await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
      const save = await context.request.post(`${wp.url}/wp-admin/admin-post.php`, {
        form: {
          action: 'sso_bridge_save',
          bridge_url: 'https://evil.example',
        },
        maxRedirects: 0,
      })
      expect(save.status()).toBe(403)
      expect(await save.text()).toContain('The link you followed has expired')
      const retry = await context.request.post(`${wp.url}/wp-admin/admin-post.php`, {
        form: { action: 'sso_bridge_retry' },
        maxRedirects: 0,
      })
      expect(retry.status()).toBe(403)
      const batch = await context.request.post(`${wp.url}/wp-admin/admin-ajax.php`, {
        form: { action: 'sso_bridge_sync_batch', offset: '0' },
      })
      expect(batch.status()).toBe(403)
      expect(wp.php(`$result = SSO_Bridge_Settings::bridge_url();`)).toBe(issuer)

      // With its nonce, a crafted form (arrays where text belongs, text where arrays belong) is
      // refused as invalid — never a PHP error — and nothing changes.
      await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
      const nonce = await page
        .locator('form:has(input[value=sso_bridge_save]) input[name=_wpnonce]')
        .inputValue()
      const crafted = await context.request.post(`${wp.url}/wp-admin/admin-post.php`, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        data: `action=sso_bridge_save&_wpnonce=${nonce}&bridge_url[]=https://evil.example&fields=x&rank_map=owner&secret=x&clear=1&profile_fields[]=y&algorithm[]=RS256`,
        maxRedirects: 0,
      })
      expect(crafted.status()).toBe(302)
      await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
      expect(await page.getByRole('alert').innerText()).toContain('Nothing was saved')
      expect(wp.php(`$result = SSO_Bridge_Settings::get();`)).toMatchObject({
        bridge_url: issuer,
        algorithm: 'HS256',
        fields: { username: 'user_login' },
      })
      expect(wp.php(`$result = SSO_Bridge_Settings::secret('ticket_secret');`)).toBe(TICKET_SECRET)
    })
    const member = createUser()
    await withContext(async (context, page) => {
      await wpLogin(page, member.login)
      const settings = await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
      expect(settings?.status()).toBe(403)
      // Even with a valid nonce of their own, the capability check refuses.
      const nonce = wp.php<string>(
        `wp_set_current_user(${member.id}); $result = wp_create_nonce('sso_bridge_save');`,
      )
      const save = await context.request.post(`${wp.url}/wp-admin/admin-post.php`, {
        form: {
          action: 'sso_bridge_save',
          _wpnonce: nonce,
          bridge_url: 'https://evil.example',
        },
        maxRedirects: 0,
      })
      expect(save.status()).toBe(403)
      expect(wp.php(`$result = SSO_Bridge_Settings::bridge_url();`)).toBe(issuer)
    })
  })
  it('RS256: a private key pasted in the form is never shown again; the page gives its public key, which verifies the plugin’s tickets (jose)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const member = createUser({ display_name: 'Key Member' })
    try {
      const publicPem = await withContext(async (_context, page) => {
        await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
        await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
        await page.selectOption('#sso-bridge-algorithm', 'RS256')
        await page.fill('#sso-bridge-private-key', pem)
        await Promise.all([page.waitForNavigation(), page.click('#submit')])
        expect(await page.locator('.notice-success').innerText()).toContain('Settings saved')
        expect(await page.locator('[data-secret=private_key]').innerText()).toBe('set')
        const html = await page.content()
        const body = pem.split('\n')[1]!
        expect(html).not.toContain(body)
        const env = await page.locator('#sso-bridge-env').innerText()
        return /SITE_TICKET_PUBLIC_KEY="([^"]+)"/.exec(env)![1]!
      })
      const ticket = wp.php<string>(
        `$result = SSO_Bridge_Jwt::sign_in_ticket(SSO_Bridge_Account::from_user(get_userdata(${member.id})), 1700000000);`,
      )
      const { payload, protectedHeader } = await jwtVerify(
        ticket,
        await importSPKI(publicPem, 'RS256'),
        { audience: `${issuer}/ticket` },
      )
      expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' })
      expect(payload).toMatchObject({
        external_id: String(member.id),
        nickname: 'Key Member',
        auth_time: 1700000000,
        jti: expect.stringMatching(/^[0-9a-f]{32}$/),
      })
      expect(payload.exp! - payload.iat!).toBe(60)
    } finally {
      configure({ algorithm: 'HS256' }, { private_key: null })
    }
    // Back on HS256: the same claims, signed with the shared secret.
    const hs = wp.php<string>(
      `$result = SSO_Bridge_Jwt::sign_in_ticket(SSO_Bridge_Account::from_user(get_userdata(${member.id})), null);`,
    )
    const { payload } = await jwtVerify(hs, new TextEncoder().encode(TICKET_SECRET), {
      audience: `${issuer}/ticket`,
      algorithms: ['HS256'],
    })
    expect(payload.external_id).toBe(String(member.id))
    expect(payload.auth_time).toBeUndefined()
  })
})

describe(
  'sync: WordPress’s hooks call the admin API at once',
  { timeout: PROCESS_TEST_TIMEOUT },
  () => {
    it('a new user arrives with the mapped fields and rank; a rename and a role change follow at once', async () => {
      const { id, login } = createUser({
        display_name: 'Grace Hopper',
        first_name: 'Grace',
        last_name: 'Hopper',
        role: 'editor',
      })
      const created = await api('GET', `/users/${id}`)
      expect(created.status).toBe(200)
      expect(created.body).toMatchObject({
        external_id: String(id),
        username: login,
        email: `${login}@example.com`,
        nickname: 'Grace Hopper',
        given_name: 'Grace',
        family_name: 'Hopper',
        rank: 'moderator',
        picture: expect.stringMatching(/^https?:\/\/[^/]*gravatar\.com\/avatar\//),
      })

      wp.php(`$result = wp_update_user(['ID' => ${id}, 'display_name' => 'Grace B. Hopper']);`)
      expect((await api('GET', `/users/${id}`)).body.nickname).toBe('Grace B. Hopper')

      wp.php(`(new WP_User(${id}))->set_role('administrator'); $result = true;`)
      expect((await api('GET', `/users/${id}`)).body.rank).toBe('owner')
      expect(wp.php(`$result = SSO_Bridge_Sync::queue();`)).toEqual([])
    })

    it('a rename onto a name another member holds goes through the conflict rule (suffix) with an audit entry', async () => {
      configure({ fields: { username: 'display_name' } })
      try {
        const holder = createUser({ display_name: 'Heidi' })
        const renamed = createUser({ display_name: 'Ivan' })
        expect((await api('GET', `/users/${renamed.id}`)).body.username).toBe('Ivan')

        wp.php(`$result = wp_update_user(['ID' => ${renamed.id}, 'display_name' => 'Heidi']);`)
        const after = (await api('GET', `/users/${renamed.id}`)).body
        expect(after).toMatchObject({
          username: 'Heidi_2',
          desired_username: 'Heidi',
        })
        expect((await api('GET', `/users/${holder.id}`)).body.username).toBe('Heidi')
        const audit = await api('GET', `/audit?external_id=${renamed.id}&field=username`)
        expect(audit.status).toBe(200)
        expect(audit.body.items).toEqual([
          expect.objectContaining({
            policy: 'suffix',
            field: 'username',
            actor: 'admin-api',
          }),
        ])
      } finally {
        configure({ fields: { username: 'user_login' } })
      }
    })

    it('a call sso-bridge did not answer is queued, shown on the settings page, and retried', async () => {
      const member = createUser({ display_name: 'Judy' })
      const closed = await freePort()
      configure({ bridge_url: `http://127.0.0.1:${closed}` })
      try {
        wp.php(
          `$result = wp_update_user(['ID' => ${member.id}, 'display_name' => 'Judy Retried']);`,
        )
        const queue = wp.php<Record<string, { op: string; attempts: number; error: string }>>(
          `$result = SSO_Bridge_Sync::queue();`,
        )
        expect(queue[String(member.id)]).toMatchObject({
          op: 'put',
          attempts: 1,
        })
        expect(queue[String(member.id)]!.error).toContain('did not answer')
        // Activation scheduled the wp-cron retry, every five minutes.
        expect(
          wp.php(
            `$result = [wp_get_schedule(SSO_Bridge_Sync::CRON_HOOK), wp_get_schedules()['sso_bridge_five_minutes']['interval']];`,
          ),
        ).toEqual(['sso_bridge_five_minutes', 300])
      } finally {
        configure({ bridge_url: issuer })
      }
      expect((await api('GET', `/users/${member.id}`)).body.nickname).toBe('Judy')

      await withContext(async (_context, page) => {
        // An administrator's admin page load itself retries (at most once a minute): keep it from
        // doing so here, so the table shows the failure and the button does the retry.
        wp.php(`set_transient('sso_bridge_retried', 1, 600); $result = true;`)
        await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
        await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
        const row = page.locator('#sso-bridge-queue tbody tr')
        expect(await row.count()).toBe(1)
        expect(await row.innerText()).toContain(String(member.id))
        expect(await row.innerText()).toContain('did not answer')
        await Promise.all([
          page.waitForNavigation(),
          page.getByRole('button', { name: 'Retry now' }).click(),
        ])
        expect(await page.locator('#sso-bridge-queue-empty').count()).toBe(1)
      })
      expect((await api('GET', `/users/${member.id}`)).body.nickname).toBe('Judy Retried')
      expect(wp.php(`$result = SSO_Bridge_Sync::queue();`)).toEqual([])
    })
  },
)

describe('WordPress’s login form in chromium', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  /** A member signed in to WordPress on WordPress's re-login page, its timers stopped. */
  async function reloginPage(page: Page, login: string) {
    await wpLogin(page, login)
    // From here WordPress's timers run only when the test moves playwright's clock.
    const now = Date.now()
    await page.clock.install({ time: now })
    await page.clock.pauseAt(now + 1000)
    await page.goto(`${wp.url}/wp-login.php?reauth=1`)
    expect(await page.inputValue('#user_login')).toBe(login)
  }

  it('empties the password of a re-login 200 ms after the form renders: a fill made before then fails the login (the ForceAuthn flake); fillWordPressLogin waits for that moment', async () => {
    const member = createUser()
    await withContext(async (_context, page) => {
      await reloginPage(page, member.login)
      // The ForceAuthn test's old steps, with WordPress's autofocus after the fills, before the click.
      await page.fill('#user_login', member.login)
      await page.fill('#user_pass', MEMBER_PASSWORD)
      await page.clock.runFor(250)
      expect(await page.inputValue('#user_pass')).toBe('')
      await Promise.all([page.waitForNavigation(), page.click('#wp-submit')])
      expect(new URL(page.url()).pathname).toBe('/wp-login.php')
      expect(await page.locator('#login_error').innerText()).toContain('password field is empty')
    })
    await withContext(async (context, page) => {
      await reloginPage(page, member.login)
      const filled = fillWordPressLogin(page, member.login, MEMBER_PASSWORD)
      await page.clock.runFor(250)
      await filled
      expect(await page.inputValue('#user_pass')).toBe(MEMBER_PASSWORD)
      await page.clock.resume()
      await Promise.all([page.waitForNavigation(), page.click('#wp-submit')])
      expect(new URL(page.url()).pathname).not.toBe('/wp-login.php')
      expect(
        (await context.cookies(wp.url)).some((c) => c.name.startsWith('wordpress_logged_in_')),
      ).toBe(true)
    })
  })
})

describe(
  'signing in at WordPress (SITE_LOGIN_URL → the plugin’s hand-off)',
  { timeout: PROCESS_TEST_TIMEOUT },
  () => {
    it('a member signed in to WordPress: authorize → hand-off → ticket → code → user-info with the WordPress display name in the mapped keys, no page of sso-bridge’s', async () => {
      const member = createUser({ display_name: 'Katherine Johnson' })
      await withContext(async (context, page) => {
        await wpLogin(page, member.login)
        const seen = documents(page)
        const posts: string[] = []
        page.on('request', (r) => {
          if (r.method() === 'POST') posts.push(r.url())
        })
        await page.goto(authorizeUrl('signed-in'))
        await page.waitForURL((u) => u.href.startsWith(callback))
        // The only page on the way is the plugin's auto-submitted form; its one POST is /ticket.
        expect(seen.filter((u) => u.startsWith(issuer))).toEqual([])
        expect(seen.filter((u) => u.startsWith(wp.url))).toHaveLength(1)
        expect(posts).toEqual([`${issuer}/ticket`])
        const back = new URL(page.url()).searchParams
        expect(back.get('state')).toBe('signed-in')
        const tokens = await redeem(back.get('code')!)
        const info = await userInfo(tokens.access_token!)
        expect(info.body).toMatchObject({
          id: String(member.id),
          names: { full_name: 'Katherine Johnson', nicknames: [member.login] },
        })
        expect(await bridgeCookie(context)).toBeDefined()
      })
    })

    it('a member not signed in: WordPress’s login form, then straight through', async () => {
      const member = createUser({ display_name: 'Dorothy Vaughan' })
      await withContext(async (_context, page) => {
        const trail = recordNavigations(page)
        await page.goto(authorizeUrl('not-signed-in'))
        expect(new URL(page.url()).pathname).toBe('/wp-login.php')
        expect(page.url().startsWith(wp.url)).toBe(true)
        await fillWordPressLogin(page, member.login, MEMBER_PASSWORD)
        await page.click('#wp-submit')
        await waitForUrl(page, (u) => u.href.startsWith(callback), trail)
        const tokens = await redeem(new URL(page.url()).searchParams.get('code')!)
        expect((await userInfo(tokens.access_token!)).body.names.full_name).toBe('Dorothy Vaughan')
      })
    })

    it('a SAML SP (node-saml) with ForceAuthn: WordPress asks for the password again even though the member is signed in; AuthnInstant is that new login', async () => {
      const member = createUser({ display_name: 'Evelyn Boyd' })
      const metadata = await (await fetch(`${issuer}/saml/metadata`)).text()
      const idpCert = /<(?:ds:)?X509Certificate>([^<]+)</.exec(metadata)![1]!.replace(/\s+/g, '')
      const sp = (forceAuthn: boolean) =>
        new SAML({
          callbackUrl: `${rpBase}/acs`,
          entryPoint: `${issuer}/saml/sso`,
          issuer: `${rpBase}/saml/metadata`,
          idpIssuer: `${issuer}/saml/metadata`,
          idpCert,
          audience: `${rpBase}/saml/metadata`,
          wantAssertionsSigned: true,
          wantAuthnResponseSigned: true,
          validateInResponseTo: ValidateInResponseTo.always,
          signatureAlgorithm: 'sha256',
          digestAlgorithm: 'sha256',
          forceAuthn,
        })
      const registered = await api('PUT', '/integrations/wp-wiki', {
        type: 'saml',
        settings: {
          entity_id: `${rpBase}/saml/metadata`,
          acs_urls: [{ url: `${rpBase}/acs`, binding: 'HTTP-POST' }],
        },
      })
      expect(registered.status, JSON.stringify(registered.body)).toBe(201)
      const forced = sp(true)
      await withContext(async (_context, page) => {
        // A failure below names every page the browser went through and where it stopped.
        const trail = recordNavigations(page)
        await wpLogin(page, member.login)
        const loggedInAt = wp.php<number>(
          `$s = WP_Session_Tokens::get_instance(${member.id})->get_all(); $result = max(array_column($s, 'login'));`,
        )
        // Every session's login time is whole seconds: the next login is a later second.
        await new Promise((r) => setTimeout(r, 1100))
        const before = posted.length
        await page.goto(await forced.getAuthorizeUrlAsync('', undefined, {}))
        const reauth = new URL(page.url())
        expect(reauth.origin + reauth.pathname).toBe(`${wp.url}/wp-login.php`)
        expect(reauth.searchParams.get('reauth')).toBe('1')
        // WordPress empties this re-login's password 200 ms after it renders: filled before that,
        // the login failed and the browser stayed here (the flake). The helper waits for it.
        await fillWordPressLogin(page, member.login, MEMBER_PASSWORD)
        await page.click('#wp-submit')
        await waitForUrl(page, `${rpBase}/acs`, trail)
        const acs = posted.slice(before).find((p) => p.path === '/acs')!
        const fields = Object.fromEntries(acs.body)
        const { profile } = await forced.validatePostResponseAsync(fields)
        expect(profile?.nameID).toBeTruthy()
        const xml = Buffer.from(fields.SAMLResponse!, 'base64').toString()
        const instant = Date.parse(/AuthnInstant="([^"]+)"/.exec(xml)![1]!) / 1000
        expect(instant).toBeGreaterThan(loggedInAt)
        const newest = wp.php<number>(
          `$s = WP_Session_Tokens::get_instance(${member.id})->get_all(); $result = max(array_column($s, 'login'));`,
        )
        expect(instant).toBe(newest)

        // Without ForceAuthn the bridge session answers at once: no WordPress page at all.
        const seen = documents(page)
        const again = posted.length
        const plain = sp(false)
        await page.goto(await plain.getAuthorizeUrlAsync('', undefined, {}))
        await waitForUrl(page, `${rpBase}/acs`, trail)
        expect(seen.filter((u) => u.startsWith(wp.url))).toEqual([])
        const second = posted.slice(again).filter((p) => p.path === '/acs')
        expect(second).toHaveLength(1)
        const out = await plain.validatePostResponseAsync(Object.fromEntries(second[0]!.body))
        expect(out.profile?.nameID).toBe(profile?.nameID)
      })
    })

    it('refuses a hand-off without return_to, or to another origin, with a clear page; no ticket is sent', async () => {
      const member = createUser()
      await withContext(async (context, page) => {
        await wpLogin(page, member.login)
        const bridgeRequests: string[] = []
        page.on('request', (r) => {
          if (r.url().startsWith(issuer)) bridgeRequests.push(r.url())
        })
        const other = `http://127.0.0.1:${await freePort()}`
        for (const returnTo of [
          null,
          '',
          'https://evil.example/interaction/x',
          `${other}/interaction/x`,
          '//evil.example/x',
          '/interaction/x',
          `${issuer.replace('http:', 'javascript:')}/x`,
          `${issuer.replace('http://', 'http://user:pass@')}/interaction/x`,
        ]) {
          const res = await page.goto(handoffUrl(returnTo))
          expect(res?.status(), String(returnTo)).toBe(400)
          const text = await page.locator('body').innerText()
          expect(text).toContain('return_to_invalid')
          expect(text).toContain('does not lead back to the sign-in service')
          expect(await page.locator('form').count()).toBe(0)
        }
        expect(bridgeRequests).toEqual([])
        expect(await bridgeCookie(context)).toBeUndefined()
      })
    })

    it('a replayed ticket and a plugin with the wrong secret are refused by sso-bridge, and nothing changes', async () => {
      const member = createUser({ display_name: 'Mary Jackson' })
      await withContext(async (context, page) => {
        await wpLogin(page, member.login)
        // The plugin's ticket, as the browser posted it.
        let posted = ''
        page.on('request', (r) => {
          if (r.url() === `${issuer}/ticket` && r.method() === 'POST') posted = r.postData() ?? ''
        })
        await page.goto(handoffUrl(`${issuer}/healthz`))
        await page.waitForURL(`${issuer}/healthz`)
        expect(posted).toContain('ticket=')
        await context.clearCookies()

        // Replayed from the site's own origin: refused, no session.
        const replay = await fetch(`${issuer}/ticket`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: wp.url,
          },
          body: posted,
          redirect: 'manual',
        })
        expect(replay.status).toBe(400)
        expect(await replay.text()).toContain('ticket_replayed')
        expect(replay.headers.get('set-cookie') ?? '').not.toContain('sso_bridge=')

        // The plugin signing with another secret: sso-bridge refuses the ticket, the account stays.
        await wpLogin(page, member.login)
        wp.php(
          `$result = wp_update_user(['ID' => ${member.id}, 'display_name' => 'Mary W. Jackson']);`,
        )
        configure(
          {},
          {
            api_key: null,
            ticket_secret: 'another-secret-of-the-wrong-site-0123456789',
          },
        )
        try {
          wp.php(
            `$result = wp_update_user(['ID' => ${member.id}, 'display_name' => 'Not Synced']);`,
          )
          await page.goto(handoffUrl(`${issuer}/healthz`))
          await page.waitForURL(`${issuer}/ticket`)
          expect(await page.locator('body').innerText()).toContain('ticket_invalid')
          expect(await bridgeCookie(context)).toBeUndefined()
          expect((await api('GET', `/users/${member.id}`)).body.nickname).toBe('Mary W. Jackson')
        } finally {
          configure({}, { api_key: ADMIN_TOKEN, ticket_secret: TICKET_SECRET })
        }
      })
      expect(bridge!.logs()).toContain('ERR_TICKET_REPLAYED')
      expect(bridge!.logs()).toContain('ERR_TICKET_INVALID')
    })

    it('a member deleted in WordPress loses every token and session in sso-bridge', async () => {
      const member = createUser({ display_name: 'Annie Easley' })
      await withContext(async (context, page) => {
        await wpLogin(page, member.login)
        await page.goto(authorizeUrl('before-delete'))
        await page.waitForURL((u) => u.href.startsWith(callback))
        const tokens = await redeem(new URL(page.url()).searchParams.get('code')!)
        expect((await userInfo(tokens.access_token!)).status).toBe(200)
        // The bridge session answers the next authorize without any page.
        await page.goto(authorizeUrl('session-alive'))
        expect(page.url().startsWith(callback)).toBe(true)

        wp.php(
          `require_once ABSPATH . 'wp-admin/includes/user.php'; $result = wp_delete_user(${member.id});`,
        )
        expect((await api('GET', `/users/${member.id}`)).status).toBe(404)
        expect((await userInfo(tokens.access_token!)).status).toBe(401)
        // The browser still holds its cookie, but the session behind it is gone.
        expect(await bridgeCookie(context)).toBeDefined()
        // The next sign-in goes to WordPress again, where the deleted member is signed out.
        await page.goto(authorizeUrl('after-delete'))
        expect(page.url().startsWith(callback)).toBe(false)
        expect(page.url().startsWith(`${wp.url}/wp-login.php`)).toBe(true)
      })
    })
  },
)

describe('logout in WordPress', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it('ends the bridge session (wp_logout → POST /logout): the next platform sign-in goes to WordPress again', async () => {
    const member = createUser({ display_name: 'Logout Member' })
    await withContext(async (context, page) => {
      await wpLogin(page, member.login)
      await page.goto(authorizeUrl('before-logout'))
      await page.waitForURL((u) => u.href.startsWith(callback))
      // While the bridge session lives, a sign-in needs no WordPress page.
      const seen = documents(page)
      await page.goto(authorizeUrl('session-alive'))
      expect(page.url().startsWith(callback)).toBe(true)
      expect(seen.filter((u) => u.startsWith(wp.url))).toEqual([])

      // WordPress's own logout: its confirmation page, then its link (with the nonce).
      await page.goto(`${wp.url}/wp-login.php?action=logout`)
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('link', { name: 'log out' }).click(),
      ])
      expect(
        (await context.cookies(wp.url)).some((c) => c.name.startsWith('wordpress_logged_in_')),
      ).toBe(false)
      // The browser keeps sso-bridge's cookie: the session behind it was ended server to server.
      expect(await bridgeCookie(context)).toBeDefined()
      await page.goto(authorizeUrl('after-logout'))
      expect(page.url().startsWith(`${wp.url}/wp-login.php`)).toBe(true)
    })
  })
})

describe('the embed shortcode', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it('renders Minnit’s zero-click iframe for the signed-in member from the token API, a visitor gets a sign-in link; the block renders BoostGPT’s widget', async () => {
    const chatUrl = 'https://organizations.minnit.chat/626811533994618/c/Main'
    const created = await api('PUT', '/integrations/minnit-chat', {
      type: 'minnit-zero-click',
      settings: { chat_url: chatUrl },
      secrets: { encryption_key: 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ' },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const member = createUser({ display_name: 'Chat Member' })
    const pageId = wp.php<number>(
      `$result = wp_insert_post(['post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Chat', 'post_content' => '[sso_bridge_embed integration="minnit-chat"]']);`,
    )
    await withContext(async (context, page) => {
      // Minnit itself is not reachable from here: its frame gets a stand-in page.
      await context.route('https://organizations.minnit.chat/**', (route) =>
        route.fulfill({ contentType: 'text/html', body: '<p>minnit</p>' }),
      )
      await page.goto(`${wp.url}/?page_id=${pageId}`)
      expect(await page.locator('.sso-bridge-login a').getAttribute('href')).toContain(
        '/wp-login.php?redirect_to=',
      )
      expect(await page.locator('iframe').count()).toBe(0)

      await wpLogin(page, member.login)
      await page.goto(`${wp.url}/?page_id=${pageId}`)
      const src = await page.locator('.sso-bridge-embed iframe').getAttribute('src')
      const url = new URL(src!)
      expect(url.origin + url.pathname).toBe(chatUrl)
      const inspected = await api('POST', '/integrations/minnit-chat/inspect', {
        token: url.searchParams.get('ssotoken'),
      })
      expect(inspected.status, JSON.stringify(inspected.body)).toBe(200)
      expect(String(inspected.body.payload.userid)).toBe(String(member.id))
      expect(inspected.body.payload).toMatchObject({
        username: member.login,
        nickname: 'Chat Member',
      })
    })

    // The block renders the same way: BoostGPT's widget script with the member's token.
    const boost = await api('PUT', '/integrations/boostgpt', {
      type: 'boostgpt-jwt',
      settings: { bot_id: 'bot-123' },
      secrets: { sso_secret: 'ab'.repeat(32) },
    })
    expect(boost.status, JSON.stringify(boost.body)).toBe(201)
    const blockPage = wp.php<number>(
      `wp_set_current_user(1); $result = wp_insert_post(['post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Agent', 'post_content' => '<!-- wp:sso-bridge/embed {"integration":"boostgpt"} /-->']);`,
    )
    await withContext(async (context, page) => {
      await context.route('https://embed.boostgpt.co/**', (route) =>
        route.fulfill({ contentType: 'text/javascript', body: '' }),
      )
      await wpLogin(page, member.login)
      await page.goto(`${wp.url}/?page_id=${blockPage}`)
      const script = page.locator('.sso-bridge-embed script[data-bot-id="bot-123"]')
      expect(await script.getAttribute('src')).toBe('https://embed.boostgpt.co/widget.js')
      const inspected = await api('POST', '/integrations/boostgpt/inspect', {
        token: await script.getAttribute('data-user-token'),
      })
      expect(inspected.status, JSON.stringify(inspected.body)).toBe(200)
      expect(inspected.body.payload).toMatchObject({
        email: `${member.login}@example.com`,
        name: 'Chat Member',
        external_id: String(member.id),
      })
    })
  })
})

describe('Sync all users now', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it('brings 1,000 WordPress users across in batches, with progress', async () => {
    // Users made while sync is not set up (no API key): sso-bridge has none of them.
    configure({}, { api_key: null })
    let ids: number[]
    try {
      ids = wp.php<number[]>(`
$ids = [];
for ($i = 0; $i < 1000; $i++) {
  $id = wp_insert_user(['user_login' => "bulk$i", 'user_email' => "bulk$i@example.com", 'user_pass' => "bulk password $i", 'display_name' => "Bulk Member $i", 'role' => 'author']);
  if (is_wp_error($id)) throw new Exception($id->get_error_message());
  $ids[] = $id;
}
$result = $ids;`)
    } finally {
      configure({}, { api_key: ADMIN_TOKEN })
    }
    expect(ids).toHaveLength(1000)
    expect((await api('GET', `/users/${ids[0]}`)).status).toBe(404)
    const total = wp.php<number>(`$result = count_users()['total_users'];`)

    await withContext(async (_context, page) => {
      await wpLogin(page, ADMIN_USER, ADMIN_PASSWORD)
      await page.goto(`${wp.url}/wp-admin/options-general.php?page=sso-bridge`)
      let batches = 0
      page.on('request', (r) => {
        if (r.url() === `${wp.url}/wp-admin/admin-ajax.php`) batches++
      })
      await page.getByRole('button', { name: 'Sync all users now' }).click()
      const status = page.locator('#sso-bridge-sync-status')
      await status.filter({ hasText: 'Done:' }).waitFor({ timeout: PROCESS_TEST_TIMEOUT })
      expect(await status.innerText()).toBe(
        `Done: ${total} of ${total} users accepted, 0 rejected.`,
      )
      expect(batches).toBe(Math.ceil(total / 200))
      const progress = page.locator('#sso-bridge-sync-progress')
      expect(await progress.getAttribute('max')).toBe(String(total))
      expect(await progress.evaluate((el: any) => el.value)).toBe(total)
    })

    const seen = new Set<string>()
    let cursor: string | null = null
    do {
      const listed = await api('GET', `/users?limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      expect(listed.status).toBe(200)
      for (const u of listed.body.items) seen.add(u.external_id)
      cursor = listed.body.next_cursor
    } while (cursor)
    expect(ids.filter((id) => !seen.has(String(id)))).toEqual([])
    expect((await api('GET', `/users/${ids[999]}`)).body).toMatchObject({
      username: 'bulk999',
      nickname: 'Bulk Member 999',
      rank: 'regular',
    })
  })
})

describe('the plugin’s PHP', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it('logged no warning or error of its own in any request of this suite', () => {
    const lines = wp
      .errorLog()
      .split('\n')
      .filter((l) => l.includes('plugins/sso-bridge'))
    expect(lines).toEqual([])
    for (const secret of [TICKET_SECRET, ADMIN_TOKEN]) {
      expect(wp.errorLog()).not.toContain(secret)
      expect(bridge!.logs()).not.toContain(secret)
    }
  })
})
