/**
 * Vitest globalSetup: makes a PostgreSQL database available to the store suites as
 * `inject('postgresUrl')`. `TEST_DATABASE_URL` wins; otherwise a throwaway cluster is started
 * (see ./postgres.ts) and removed at teardown. Without PostgreSQL server binaries, CI fails
 * here; elsewhere a loud banner explains, `postgresUrl` is null, and the PostgreSQL suite
 * reports one failing test instead of passing silently.
 */
import type { TestProject } from 'vitest/node'
import { findPostgresBin, startPostgres } from './postgres.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of an empty database the suites may create schemas in; null when none is available. */
    postgresUrl: string | null
  }
}

export const POSTGRES_MISSING =
  'PostgreSQL not available: install postgresql (apt-get install postgresql) or set TEST_DATABASE_URL'

export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.TEST_DATABASE_URL
  if (given) {
    project.provide('postgresUrl', given)
    return undefined
  }
  const bin = findPostgresBin()
  if (!bin) {
    if (process.env.CI) {
      throw new Error(
        `${POSTGRES_MISSING}. CI must run the PostgreSQL store suite; refusing to skip it.`,
      )
    }
    const line = '!'.repeat(78)
    process.stderr.write(
      [
        '',
        line,
        '!!  THE POSTGRESQL STORE SUITE DID NOT RUN',
        '!!',
        '!!  No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found under',
        '!!  /usr/lib/postgresql/*/bin, $PG_BIN or $PATH, and TEST_DATABASE_URL is not set.',
        '!!  Fix: apt-get install postgresql   (or)   TEST_DATABASE_URL=postgres://... npm test',
        '!!  test/store/postgres.test.ts will report a failing test until then.',
        line,
        '',
        '',
      ].join('\n'),
    )
    project.provide('postgresUrl', null)
    return undefined
  }
  const started = Date.now()
  const server = await startPostgres(bin)
  process.stderr.write(
    `[globalSetup] throwaway PostgreSQL (${bin}) ready in ${Date.now() - started} ms\n`,
  )
  project.provide('postgresUrl', server.url)
  return () => server.stop()
}
