/**
 * @module accounts/types
 * The account as every door sees it. The shape itself is defined in store/account.ts, below the
 * store's ports, so that the store needs nothing from accounts/ (the house style's dependency
 * direction); doors keep importing it from here.
 */
export { ACCOUNT_STATUSES, RANKS } from '../store/account.ts'
export type {
  Account,
  AccountFields,
  AccountStatus,
  JsonObject,
  JsonValue,
  Rank,
} from '../store/account.ts'
