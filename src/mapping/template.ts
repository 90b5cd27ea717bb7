/**
 * @module mapping/template
 * Splits a template such as `"{given_name} {family_name}"` into literal text and placeholder
 * paths. A placeholder is replaced by a value, never evaluated: there is no expression syntax,
 * only `{path}`. `{{` and `}}` write literal braces.
 */
import { MappingSyntaxError } from './syntax-error.ts'

/** Literal text, or the source path (as written) of a placeholder. */
export type TemplatePart = { text: string } | { path: string }

/** Longest template accepted: a display name or a URL, not a document. */
export const MAX_TEMPLATE_LENGTH = 2000

/**
 * Parses a template into parts, merging adjacent literal text.
 *
 * @throws {MappingSyntaxError} on an unclosed `{`, a stray `}`, an empty `{}`, a `{` inside a
 *   placeholder, or a template longer than {@link MAX_TEMPLATE_LENGTH}.
 * @example parseTemplate('{given_name} {{x}}') // [{ path: 'given_name' }, { text: ' {x}' }]
 */
export function parseTemplate(template: string): TemplatePart[] {
  if (template.length > MAX_TEMPLATE_LENGTH)
    throw new MappingSyntaxError(`template is longer than ${MAX_TEMPLATE_LENGTH} characters`)
  const parts: TemplatePart[] = []
  let text = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if (c === '{' && template[i + 1] === '{') {
      text += '{'
      i++
    } else if (c === '}' && template[i + 1] === '}') {
      text += '}'
      i++
    } else if (c === '}') {
      throw new MappingSyntaxError(
        `template has a stray "}" at character ${i + 1} (write "}}" for a literal brace)`,
      )
    } else if (c === '{') {
      const end = template.indexOf('}', i + 1)
      if (end < 0)
        throw new MappingSyntaxError(`template has an unclosed "{" at character ${i + 1}`)
      const path = template.slice(i + 1, end)
      if (path === '')
        throw new MappingSyntaxError(`template has an empty placeholder "{}" at character ${i + 1}`)
      if (path.includes('{'))
        throw new MappingSyntaxError(
          `template has a "{" inside the placeholder at character ${i + 1}`,
        )
      if (text !== '') parts.push({ text })
      text = ''
      parts.push({ path })
      i = end
    } else {
      text += c
    }
  }
  if (text !== '') parts.push({ text })
  return parts
}
