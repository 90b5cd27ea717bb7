/** @module metrics — what GET /metrics serves (issue #14). */
export * from './metrics.ts'
export * from './timed-store.ts'
