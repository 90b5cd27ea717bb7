/**
 * src/lazy.ts, the loaders behind issue #13's lazy loading: one load shared by every caller, a
 * failed load tried again on the next call, and `require` loading a package once.
 */
import { describe, expect, it } from 'vitest'
import { lazyImport, lazyRequire } from '../../src/lazy.ts'

describe('lazyImport', () => {
  it('loads once, however many callers ask at the same time or later', async () => {
    let loads = 0
    const load = lazyImport(async () => ({ n: ++loads }))
    const [a, b] = await Promise.all([load(), load()])
    expect(await load()).toBe(a)
    expect(b).toBe(a)
    expect(loads).toBe(1)
  })

  it('forgets a failed load: the next call tries again', async () => {
    let loads = 0
    const load = lazyImport(async () => {
      if (++loads === 1) throw new Error('first load fails')
      return 'loaded'
    })
    await expect(load()).rejects.toThrow('first load fails')
    await expect(load()).resolves.toBe('loaded')
    expect(loads).toBe(2)
  })

  it('imports a real module: the same namespace as a static import', async () => {
    const load = lazyImport(() => import('node:path'))
    const path = await import('node:path')
    expect((await load()).join).toBe(path.join)
  })
})

describe('lazyRequire', () => {
  it('requires a package of this install on the first call only, running onLoad once', () => {
    const seen: unknown[] = []
    const load = lazyRequire<{ DOMParser: unknown }>('@xmldom/xmldom', (m) => seen.push(m))
    expect(seen).toEqual([])
    const first = load()
    expect(typeof first.DOMParser).toBe('function')
    expect(load()).toBe(first)
    expect(seen).toEqual([first])
  })

  it('a package that is not installed throws at the call, not at definition', () => {
    const load = lazyRequire('sso-bridge-no-such-package')
    expect(() => load()).toThrow(/Cannot find module/)
  })
})
