/**
 * @module store/time-zone
 * Whether a string is an IANA time zone name. ICU's list (Intl.supportedValuesOf) holds older
 * names only (Asia/Calcutta, not Asia/Kolkata), so a name is valid when Intl can use it and it
 * is spelled as IANA spells names (Area/Location; ICU also accepts other casings).
 */
const IANA_SHAPE =
  /^(?:UTC|[A-Z][A-Za-z]*(?:\/[A-Z0-9][A-Za-z0-9_+-]*){1,2}|Etc\/(?:UTC|GMT[+-]\d{1,2}))$/
const known = new Map<string, boolean>()

/**
 * True for an IANA zone name (`Europe/Paris`, `UTC`) that Intl can use and that is spelled as
 * IANA spells it (ICU also accepts other casings, which platforms may not). Answers are cached:
 * building an Intl formatter is slow, and a few zones cover every account.
 */
export function isTimeZone(name: string): boolean {
  let ok = known.get(name)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: name })
      ok = IANA_SHAPE.test(name)
    } catch {
      ok = false
    }
    // Bounded: answers for arbitrary input must not grow the process.
    if (known.size < 2000) known.set(name, ok)
  }
  return ok
}
