export type { Config, ConsoleConfig, StoreConfig, LoadOptions, SiteLoginConfig } from './load.ts'
export { loadConfig } from './load.ts'
export {
  envSchema,
  EMAIL_POLICIES,
  USERNAME_POLICIES,
  type ConflictPolicies,
  type EmailPolicy,
  type TrustProxy,
  type UsernamePolicy,
} from './schema.ts'
