/**
 * Timeouts in tests catch hangs, never slowness: a test that starts real processes (the
 * server, `npx sso-bridge`, bash running the README) waits as long as a loaded 2-core CI
 * machine needs — seconds per process there, where a developer's machine takes a fraction —
 * and gives up only on something that will never finish.
 */

/** For a test or hook that starts real processes (vitest's own default is for in-process tests). */
export const PROCESS_TEST_TIMEOUT = 600_000

/** How long a started process may take to say it is ready before it is declared hung. */
export const PROCESS_START_TIMEOUT = 300_000
