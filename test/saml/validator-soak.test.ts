/**
 * The request validator neither leaks nor blocks: 10,000 parses of a real (node-saml made,
 * signed) AuthnRequest through the same path the door uses (bounded inflate → DTD refusal →
 * the structural validator samlify calls), and through samlify's own `isValidXml` hook. The
 * heap after a full GC stays flat and no process listener is added. The time per parse is
 * printed for the reader, not asserted: speed is the benchmarks' business (the "< 1 ms" goal is
 * a row of test/bench/saml.bench.ts), and a loaded CI machine must not fail a correctness test.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import samlify from 'samlify'
import { describe, expect, test } from 'vitest'
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import { inflateMessage, parseSamlXml, samlSchemaValidator } from '../../src/saml/xml-guard.ts'
import { spKeyPairs } from './helpers.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const listeners = () =>
  ['exit', 'SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection'].reduce(
    (n, e) => n + process.listenerCount(e),
    0,
  )

describe('SAML request validator soak', () => {
  test(
    '10,000 parses: memory flat, no listeners added',
    async () => {
      samlify.setSchemaValidator(samlSchemaValidator)
      const sp = new SAML({
        callbackUrl: 'https://sp.example/acs',
        entryPoint: 'https://idp.example/saml/sso',
        issuer: 'https://sp.example/metadata',
        idpCert: (await spKeyPairs()).signing.certificatePem,
        privateKey: (await spKeyPairs()).signing.privateKeyPem,
        signatureAlgorithm: 'sha256',
        validateInResponseTo: ValidateInResponseTo.never,
      })
      const url = new URL(await sp.getAuthorizeUrlAsync('relay', undefined, {}))
      const encoded = url.searchParams.get('SAMLRequest')!
      const xml = inflateMessage(encoded)

      const round = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const { root } = parseSamlXml(inflateMessage(encoded))
          if (root.name !== 'AuthnRequest') throw new Error('parse failed')
          await samlify.SamlLib.isValidXml(xml)
        }
      }
      await round(1_000) // warm-up: JIT, caches
      const listenersBefore = listeners()
      const before = heapAfterGc()
      const started = performance.now()
      await round(10_000)
      const perParse = (performance.now() - started) / 10_000
      const after = heapAfterGc()
      const growth = after - before
      console.log(
        `[soak] 10,000 parses: ${perParse.toFixed(3)} ms each (two validations per iteration), heap ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB (${(growth / 1024).toFixed(0)} KiB)`,
      )
      expect(growth).toBeLessThan(2 * 2 ** 20)
      expect(listeners()).toBe(listenersBefore)
    },
    PROCESS_TEST_TIMEOUT,
  ) // a fixed amount of work: the limit only catches a hang
})
