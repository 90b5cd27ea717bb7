/**
 * @module lazy
 * Loads a dependency the first time it is used instead of at start-up, so a configuration pays
 * (in start time and resident memory) only for what it uses: the Markdown renderer until `/docs`
 * is asked, the SAML stack until a SAML URL is, the CSV parser until an import, argon2 until a
 * password is checked. What each one costs, and why it is deferred, is in docs/performance.md.
 *
 * Two shapes: {@link lazyImport} for callers that are already asynchronous (a dynamic `import()`,
 * shared by every caller), and {@link lazyRequire} for the few synchronous ones (a zod refinement
 * cannot await), which loads a package with `require`.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * A memoized loader: the first call starts `load()`, later calls share its promise. A failed
 * load is forgotten, so the next call tries again (and fails loudly again) rather than
 * returning the same rejection for the life of the process.
 * @param load a dynamic `import()` of the module, as a literal specifier (so tooling sees it)
 * @example
 * const markdown = lazyImport(() => import('./docs-markdown.ts'))
 * const { renderDocPage } = await markdown()
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () =>
    (pending ??= load().catch((err: unknown) => {
      pending = undefined
      throw err
    }))
}

/**
 * A memoized synchronous loader of a package, for callers that cannot await. The package is
 * resolved from this project (as a static import would be) and its `require` export is what
 * the caller gets; `T` is its type (from an `import type`).
 * @param onLoad runs once, right after the first load (a library's one-time set-up)
 * @example
 * import type * as XmlDom from '@xmldom/xmldom'
 * const xmldom = lazyRequire<typeof XmlDom>('@xmldom/xmldom')
 * new (xmldom().DOMParser)()
 */
export function lazyRequire<T>(specifier: string, onLoad?: (module: T) => void): () => T {
  let loaded: { module: T } | undefined
  return () => {
    if (loaded) return loaded.module
    const module = require(specifier) as T
    onLoad?.(module)
    loaded = { module }
    return module
  }
}
