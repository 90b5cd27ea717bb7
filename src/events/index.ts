/** @module events — the event log the doors write and the admin API reads (issue #14). */
export * from './log.ts'
export * from './retention.ts'
export * from './listing.ts'
