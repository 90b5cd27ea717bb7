export {
  BRIDGE_ERROR_CODES,
  ERROR_REPLIES,
  isBridgeErrorCode,
  replyFor,
  type BridgeErrorCode,
  type ErrorReply,
} from './codes.ts'
export * from './errors.ts'
