/**
 * @module web/views
 * Renders the HTML files in views/. Placeholders are `{{name}}`; every value is HTML-escaped
 * unless the caller marks it as already-escaped markup with {@link raw}.
 */
import { readFileSync } from 'node:fs'

const VIEWS = new URL('../../views/', import.meta.url)
const cache = new Map<string, string>()

export interface RawHtml {
  readonly html: string
}

export const raw = (html: string): RawHtml => ({ html })

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

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

export interface SiteLook {
  name: string
  color: string
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
