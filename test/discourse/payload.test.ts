/**
 * DiscourseConnect's wire format (src/tokens/discourse/payload.ts) against the documented example
 * of meta.discourse.org/t/13045 (secret `d836444a9e4084d5b224a60c208dce14`, the Base64 payload
 * with Ruby's trailing newline, its sig), and our signed payloads checked by implementations
 * written from the document in other languages: Python's hmac/base64 and PHP's hash_hmac.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  connectUrl,
  encodeConnect,
  isUnderForum,
  signConnect,
  verifyConnectRequest,
} from '../../src/tokens/discourse/payload.ts'

const DOC_SECRET = 'd836444a9e4084d5b224a60c208dce14'
const DOC_SSO = 'bm9uY2U9Y2I2ODI1MWVlZmI1MjExZTU4YzAwZmYxMzk1ZjBjMGI=\n'
const DOC_SIG = '2828aa29899722b35a2f191d34ef9b3ce695e0e6eeec47deb46d588d70c7cb56'

describe('DiscourseConnect payloads', () => {
  it("verifies the document's example and decodes its nonce", () => {
    expect(verifyConnectRequest(DOC_SSO, DOC_SIG, DOC_SECRET)).toEqual({
      ok: true,
      fields: { nonce: 'cb68251eefb5211e58c00ff1395f0c0b' },
    })
  })

  it('refuses a changed payload, a changed or short sig, another secret, non-Base64 text, a field twice', () => {
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0')
    expect(verifyConnectRequest(DOC_SSO.trim(), DOC_SIG, DOC_SECRET)).toEqual({
      ok: false,
      reason: 'signature',
    })
    expect(verifyConnectRequest(DOC_SSO, flip(DOC_SIG), DOC_SECRET)).toMatchObject({
      reason: 'signature',
    })
    expect(verifyConnectRequest(DOC_SSO, DOC_SIG.slice(0, 62), DOC_SECRET)).toMatchObject({
      reason: 'signature',
    })
    expect(verifyConnectRequest(DOC_SSO, DOC_SIG, `${DOC_SECRET}x`)).toMatchObject({
      reason: 'signature',
    })
    expect(verifyConnectRequest('bm9u!2U=', DOC_SIG, DOC_SECRET)).toMatchObject({
      reason: 'malformed',
    })
    expect(verifyConnectRequest(['a'], DOC_SIG, DOC_SECRET)).toMatchObject({ reason: 'malformed' })
    // Signed right, but `nonce` twice: which one would Discourse mean? Refused.
    const sso = Buffer.from('nonce=a&nonce=b').toString('base64')
    expect(verifyConnectRequest(sso, signConnect(sso, DOC_SECRET), DOC_SECRET)).toEqual({
      ok: false,
      reason: 'malformed',
    })
  })

  it('signs the Base64 text: a known answer, verified by Python and by PHP written from the document', () => {
    const signed = encodeConnect(
      {
        nonce: 'cb68251eefb5211e58c00ff1395f0c0b',
        external_id: '42',
        email: 'ada@example.com',
        name: 'Ada Lovelace & co',
        admin: false,
        moderator: true,
        add_groups: ['analysts', 'engines'],
        bio: null,
        profile: { ignored: true },
      },
      DOC_SECRET,
    )
    const query =
      'nonce=cb68251eefb5211e58c00ff1395f0c0b&external_id=42&email=ada%40example.com&name=Ada+Lovelace+%26+co&admin=false&moderator=true&add_groups=analysts%2Cengines'
    expect(Buffer.from(signed.sso, 'base64').toString()).toBe(query)
    expect(signed.sso).toBe(Buffer.from(query).toString('base64'))
    const python = execFileSync('python3', [
      '-c',
      [
        'import sys, hmac, hashlib, base64, json',
        'from urllib.parse import parse_qsl',
        'sso, sig, secret = sys.argv[1:4]',
        'ok = hmac.compare_digest(hmac.new(secret.encode(), sso.encode(), hashlib.sha256).hexdigest(), sig)',
        'print(json.dumps({"ok": ok, "fields": dict(parse_qsl(base64.b64decode(sso).decode()))}))',
      ].join('\n'),
      signed.sso,
      signed.sig,
      DOC_SECRET,
    ]).toString()
    expect(JSON.parse(python)).toEqual({
      ok: true,
      fields: {
        nonce: 'cb68251eefb5211e58c00ff1395f0c0b',
        external_id: '42',
        email: 'ada@example.com',
        name: 'Ada Lovelace & co',
        admin: 'false',
        moderator: 'true',
        add_groups: 'analysts,engines',
      },
    })
    const php = execFileSync('php', [
      '-r',
      '[, $sso, $sig, $secret] = $argv; echo hash_equals(hash_hmac("sha256", $sso, $secret), $sig) ? "valid" : "invalid";',
      '--',
      signed.sso,
      signed.sig,
      DOC_SECRET,
    ]).toString()
    expect(php).toBe('valid')
    expect(connectUrl('https://forum.example/session/sso_login', signed)).toBe(
      `https://forum.example/session/sso_login?${new URLSearchParams(signed)}`,
    )
    expect(connectUrl('https://forum.example/s?x=1', signed)).toMatch(/\?x=1&sso=/)
  })

  it('return_sso_url: on the forum after normalisation, never beside it', () => {
    const forum = 'https://forum.example.com/community'
    for (const ok of [
      'https://forum.example.com/community/session/sso_login',
      'HTTPS://FORUM.example.com:443/community/./session/sso_login?x=1',
      'https://forum.example.com/community',
    ])
      expect(isUnderForum(ok, forum), ok).toBe(true)
    for (const bad of [
      'https://forum.example.com/community-evil/session/sso_login',
      'https://forum.example.com/session/sso_login',
      'https://forum.example.com/community/../session/sso_login',
      'http://forum.example.com/community/session/sso_login',
      'https://forum.example.com.evil.example/community/session/sso_login',
      'https://user:pw@forum.example.com/community/session/sso_login',
      'https://forum.example.com:8443/community/session/sso_login',
      '//forum.example.com/community/session/sso_login',
      'not a url',
    ])
      expect(isUnderForum(bad, forum), bad).toBe(false)
  })
})
