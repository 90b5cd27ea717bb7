/**
 * @module web/views
 * Renders the HTML files in views/. Placeholders are `{{name}}`; every value is HTML-escaped
 * unless the caller marks it as already-escaped markup with {@link raw}.
 */
import { readFileSync } from 'node:fs'

const VIEWS = new URL('../../views/', import.meta.url)
const cache = new Map<string, string>()

/** Markup a view inserts as it is; only {@link raw} makes one, so escaping is the default. */
export interface RawHtml {
  readonly html: string
}

/**
 * Marks `html` as markup the caller has already escaped (built with {@link escapeHtml}), so
 * {@link render} inserts it unchanged. Never pass it text that came from a request or an account.
 * @example render('home', { links: raw(`<li>${escapeHtml(label)}</li>`) })
 */
export const raw = (html: string): RawHtml => ({ html })

/**
 * Escapes the five characters that matter in HTML text and quoted attributes (`& < > " '`) as
 * numeric references, so a value can go inside either safely.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * Fills the view `views/<view>.html` (read once, then cached): each `{{name}}` becomes its
 * local, HTML-escaped unless it is {@link RawHtml}.
 * @param view the file name under views/ without `.html`
 * @param locals a value for every placeholder the view has
 * @throws {Error} when the view has a placeholder `locals` does not fill: a programming error,
 *   caught by the tests rather than rendered as an empty hole
 */
export function render(view: string, locals: Record<string, string | RawHtml>): string {
  let template = cache.get(view)
  if (template === undefined) {
    template = readFileSync(new URL(`${view}.html`, VIEWS), 'utf8')
    cache.set(view, template)
  }
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = locals[name]
    if (value === undefined) throw new Error(`view ${view}: no value for {{${name}}}`)
    return typeof value === 'string' ? escapeHtml(value) : value.html
  })
}

/** How the sign-in pages name and colour the site (SITE_NAME, SITE_COLOR). */
export interface SiteLook {
  name: string
  color: string
  /**
   * The site's front page, which the error pages link back to ("Go back to <site>"): the origin
   * of SITE_LOGIN_URL (config/load.ts); without it the pages name the site without a link.
   */
  homeUrl?: string | undefined
}

/** A view inside the sign-in pages' layout (site name and colour from config). */
export function page(
  view: string,
  title: string,
  site: SiteLook,
  locals: Record<string, string | RawHtml>,
): string {
  return render('_layout', {
    title,
    site_name: site.name,
    color: site.color,
    content: raw(render(view, { site_name: site.name, ...locals })),
  })
}
