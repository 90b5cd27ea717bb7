/**
 * @module accounts/types
 * The account as every door sees it, and the table of its fields. Both are defined below the
 * store's ports (store/account.ts, store/account-fields.ts), so that the store needs nothing from
 * accounts/ (the house style's dependency direction); doors, mapping and login import them from
 * here.
 */
export {
  ACCOUNT_FIELD_NAMES,
  ACCOUNT_FIELDS,
  ACCOUNT_STATUSES,
  ADMIN_FIELDS,
  MAPPING_FIELD_NAMES,
  RANKS,
  TICKET_FIELD_NAMES,
  UNIQUE_FIELDS,
  fieldSpec,
  withDefaults,
  type AccountData,
  type AccountFieldName,
  type AccountFieldSpec,
  type AccountFieldValue,
} from '../store/account-fields.ts'
export type {
  Account,
  AccountFields,
  AccountStatus,
  JsonObject,
  JsonValue,
  Rank,
} from '../store/account.ts'
