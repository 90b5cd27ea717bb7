import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log/logger.ts'

function capture() {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk))
      done()
    },
  })
  return { log: createLogger('info', sink), text: () => lines.join('') }
}

describe('logger redaction', () => {
  it('censors credentials at the top level and nested one or two levels down', () => {
    const { log, text } = capture()
    log.info(
      {
        password: 'pw-top',
        user: { password_hash: '$argon2id$hash-nested', token: 'tok-nested' },
        req: { headers: { authorization: 'Bearer adm-nested2', cookie: 'sid=cookie-nested2' } },
        integration: { secrets: { encryption_key: { value: 'key-nested' } } },
        client_secret: 'cs-top',
        ms_token: 'ms-top',
      },
      'x',
    )
    const out = text()
    for (const secret of [
      'pw-top',
      'hash-nested',
      'tok-nested',
      'adm-nested2',
      'cookie-nested2',
      'key-nested',
      'cs-top',
      'ms-top',
    ]) {
      expect(out).not.toContain(secret)
    }
    expect(out).toContain('[redacted]')
  })

  it('keeps error codes and ordinary fields', () => {
    const { log, text } = capture()
    log.info({ code: 'ERR_ACCOUNT_CONFLICT', path: '/api/v1/users/a', status: 409 }, 'refused')
    expect(JSON.parse(text())).toMatchObject({
      code: 'ERR_ACCOUNT_CONFLICT',
      path: '/api/v1/users/a',
      status: 409,
      level: 'info',
    })
  })
})
