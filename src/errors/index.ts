export type { BridgeErrorCode } from './codes.ts'
export * from './errors.ts'
