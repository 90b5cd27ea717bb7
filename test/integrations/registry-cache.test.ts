import { afterEach, describe, expect, it, vi } from 'vitest'
import { testSecretBox } from '../helpers/secrets.ts'
import { RECORD_TTL_MS } from '../../src/integrations/registry.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

afterEach(() => {
  vi.useRealTimers()
})

const jwt = (secret: string) => ({ type: 'jwt', settings: {}, secrets: { secret } })

describe('integration loads are reused briefly', () => {
  it('a write through the same service shows at once; another process’s write within RECORD_TTL_MS', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const store = createSqliteStore(':memory:')
    const here = createServices(store, {
      readSecretEnv: () => undefined,
      secrets: testSecretBox(),
    }).integrations
    const elsewhere = createServices(store, {
      readSecretEnv: () => undefined,
      secrets: testSecretBox(),
    }).integrations // as the CLI would
    await here.put('j', jwt('a'.repeat(32)))
    expect((await here.load('j')).secret('secret')).toBe('a'.repeat(32))

    await here.put('j', jwt('b'.repeat(32)))
    expect((await here.load('j')).secret('secret')).toBe('b'.repeat(32))

    await elsewhere.put('j', jwt('c'.repeat(32)))
    expect((await here.load('j')).secret('secret')).toBe('b'.repeat(32))
    vi.advanceTimersByTime(RECORD_TTL_MS + 1)
    expect((await here.load('j')).secret('secret')).toBe('c'.repeat(32))

    await here.remove('j')
    await expect(here.load('j')).rejects.toMatchObject({ code: 'ERR_INTEGRATION_NOT_FOUND' })
    await store.close()
  })
})
