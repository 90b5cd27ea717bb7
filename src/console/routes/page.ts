/**
 * @module console/routes/page
 * What every console page shares: the contract a page file fulfils ({@link ConsolePage}), what it
 * is given ({@link ConsolePageDeps}), and how it answers — {@link sendPage} inside the console's
 * layout (nav, operator, sign-out), {@link sendRefusal} for a refusal with its stable code.
 *
 * A page is one file under console/routes/pages/ and one line in pages/index.ts. It reads and
 * changes things only through the services the admin API uses (`deps.services`), or a hook the
 * composition root hands it (`deps.hooks`), so the console never reaches into a door itself
 * (test/architecture). Its POST handlers call `deps.csrf.check(req)` first; the operator and a
 * form token are in {@link ConsoleLocals} (set by the gate, console/routes/gate.ts).
 */
import type { Request, Response, Router } from 'express'
import { replyFor, type BridgeErrorCode } from '../../errors/index.ts'
import type { Account, JsonObject } from '../../accounts/types.ts'
import type { KeyMaterial } from '../../keys/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { Services } from '../../services.ts'
import type { OperatorRecord } from '../../store/ports.ts'
import type { Csrf } from '../../web/csrf.ts'
import { escapeHtml, raw, render, type RawHtml, type SiteLook } from '../../web/views.ts'
import { CONSOLE_ROUTES } from '../paths.ts'

/**
 * Capabilities a page needs from a door, handed over by the composition root (http/app.ts), so
 * that console/ imports no door. Each page part adds what it needs, optional so a test app can
 * leave out what it does not exercise.
 */
export interface ConsoleHooks {
  /** The SAML door: the NameID and attribute statement an SP would get (Test page). */
  samlPreview?: (integrationId: string, account: Account) => Promise<SamlPreviewView>
  /** The SAML door: the SP's metadata fetched from `url` and compared with the settings. */
  samlMetadataCheck?: (integrationId: string, url: string) => Promise<MetadataCheckView>
  /** The OIDC door: a real authorization-code round trip for the member (Test page). */
  oidcLiveCheck?: (integrationId: string, externalId: string) => Promise<OidcLiveCheckView>
  /** The connection sheet of integration `id` (connection/sheet.ts, as the admin API serves it). */
  connectionSheet?: (id: string) => Promise<Record<string, unknown>>
  /**
   * The member page: what oidc-provider holds live for a member (oidc/revoke-account.ts
   * `countOidcAccount`, by its `accountId` index).
   */
  memberOidc?: (externalId: string) => Promise<{
    sessions: number
    grants: number
    access_tokens: number
    refresh_tokens: number
  }>
  /** The keys page: the keys this process signs with, and where they live (keys/). */
  keys?: ConsoleKeys
  /** What the Overview shows of each door's keys and set-up (pages/overview.ts). */
  doorFacts?: () => DoorFacts
}

/**
 * The doors' keys and set-up as the Overview shows them: what is loaded and configured, never a
 * private key or a secret. A function, so a key rotated since start shows at once.
 */
export interface DoorFacts {
  /** The OIDC signing keys loaded (public members only), first signs. */
  oidcSigningKeys: { kid: string; alg: string }[]
  /** The SAML signing certificate, or null when none is loaded. */
  samlCertificate: { fingerprintSha256: string; createdAt: string } | null
  /** SITE_LOGIN_URL, or null. */
  siteLoginUrl: string | null
  /** PASSWORD_SIGN_IN. */
  passwordSignIn: boolean
  /** Whether a site-ticket key is configured (/ticket answers). */
  siteTickets: boolean
  /** CONSOLE_REQUIRE_TOTP. */
  requireTotp: boolean
}

/** What the keys page is given: the loaded keys, KEYS_DIR and the cookie secret's source. */
export interface ConsoleKeys {
  /** The keys this process loaded at start and signs with. */
  loaded: KeyMaterial
  /** KEYS_DIR, when this server has one (rotation writes there; without, it is refused). */
  dir?: string | undefined
  /** The common name of a new SAML certificate (the issuer's host, as the first start uses). */
  commonName: string
}

/** What {@link ConsoleHooks.samlPreview} answers. */
export interface SamlPreviewView {
  nameId: string
  nameIdFormat: string
  attributes: { name: string; values: string[] }[]
  acsUrl: string | undefined
}

/** What {@link ConsoleHooks.samlMetadataCheck} answers: each setting, ours against theirs. */
export interface MetadataCheckView {
  url: string
  items: { setting: string; ours: string; theirs: string; match: boolean }[]
}

/** What {@link ConsoleHooks.oidcLiveCheck} answers: each step with its outcome, and what came back. */
export interface OidcLiveCheckView {
  steps: { name: string; ok: boolean; detail: string }[]
  /** The user-info document the round trip got back, when it got that far. */
  userinfo: JsonObject | null
  /** The ID token's verified claims, when it got that far. */
  idToken: JsonObject | null
}

/** What a page's router is built with. */
export interface ConsolePageDeps {
  /** The services the admin API uses (services.ts). */
  services: Services
  /** Door capabilities handed over by http/app.ts (see {@link ConsoleHooks}). */
  hooks: ConsoleHooks
  /** The console's CSRF helper (bound to the console session). */
  csrf: Csrf
  issuer: string
  site: SiteLook
  log: Logger
}

/** A console page: its place in the nav (if any) and its routes. */
export interface ConsolePage {
  /** The nav entry; `order` sorts the entries (Overview 0, then by tens). */
  nav?: { label: string; path: string; order: number }
  routes(deps: ConsolePageDeps): Router
}

/** What the gate (console/routes/gate.ts) leaves in `res.locals` for a signed-in operator. */
export interface ConsoleLocals {
  operator: OperatorRecord
  /** `operator:<name>`: the actor the audit log records for a change made here. */
  actor: string
  /** A CSRF token for the forms of this response. */
  csrf: string
  /**
   * An opaque id of this console session (a hash of its cookie, never the cookie): what a value
   * shown once (a generated secret) is bound to, so no other session can open it.
   */
  session: string
  /** The nav entries, sorted (pages/index.ts). */
  nav: readonly NonNullable<ConsolePage['nav']>[]
}

/** The signed-in operator's locals (the gate ran before every page route). */
export const consoleLocals = (res: Response): ConsoleLocals => res.locals as ConsoleLocals

/** Options of {@link sendPage}. */
export interface PageOptions {
  /** The page's `<h1>` and title. */
  title: string
  /** The body, escaped already (build it with `escapeHtml` / `render`). */
  body: RawHtml
  /** The nav entry's path to mark as current (default: the request path's own entry). */
  current?: string
  status?: number
}

/**
 * Answers with a console page: the layout (site, nav with the current entry marked, the operator
 * and a sign-out form) around `body`.
 */
export function sendPage(req: Request, res: Response, site: SiteLook, opts: PageOptions): void {
  const { operator, csrf, nav } = consoleLocals(res)
  const current =
    opts.current ??
    [...nav]
      .sort((a, b) => b.path.length - a.path.length)
      .find((n) => req.path === n.path || req.path.startsWith(`${n.path}/`))?.path
  const links = nav
    .map(
      (n) =>
        `<li><a href="${escapeHtml(n.path)}"${n.path === current ? ' aria-current="page"' : ''}>${escapeHtml(n.label)}</a></li>`,
    )
    .join('')
  res
    .status(opts.status ?? 200)
    .type('html')
    .send(
      render('console-layout', {
        title: opts.title,
        site_name: site.name,
        nav: raw(links),
        operator: operator.name,
        csrf,
        logout: CONSOLE_ROUTES.logout,
        content: opts.body,
      }),
    )
}

/**
 * Answers with a refusal inside the console's layout: the code's status, its wire name in small
 * print, and what to do. Nothing has changed when this is sent.
 */
export function sendRefusal(
  req: Request,
  res: Response,
  site: SiteLook,
  code: BridgeErrorCode,
  text: string,
): void {
  const reply = replyFor(code)
  sendPage(req, res, site, {
    title: 'Not done',
    status: reply.status,
    body: raw(
      `<div class="error" role="alert" data-code="${escapeHtml(reply.error)}"><p>${escapeHtml(text)}</p><p><small>${escapeHtml(reply.error)}</small></p></div>`,
    ),
  })
}
