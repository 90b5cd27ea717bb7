/**
 * Timeouts in tests catch hangs, never slowness. A loaded 2-core CI machine runs a test many
 * times slower than a developer's machine (a process start alone takes seconds there), so every
 * limit here is far above what slowness alone can reach: a test that hits one is stuck, not slow.
 * vitest.config.ts takes its defaults from here.
 */

/** vitest's testTimeout: any test, in-process. */
export const TEST_TIMEOUT = 120_000

/** vitest's hookTimeout (hooks open stores, start servers). */
export const HOOK_TIMEOUT = 600_000

/**
 * A wait inside a test for something a background thread or process does (no event to await):
 * well under TEST_TIMEOUT, so the test can still say what it was waiting for.
 */
export const WAIT_TIMEOUT = 60_000

/** For a test or hook that starts real processes (the server, `npx sso-bridge`, bash) or runs a soak. */
export const PROCESS_TEST_TIMEOUT = 600_000

/** How long a started process may take to say it is ready before it is declared hung. */
export const PROCESS_START_TIMEOUT = 300_000
