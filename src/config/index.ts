export type { Config, StoreConfig, LoadOptions } from './load.ts'
export { loadConfig } from './load.ts'
export { envSchema } from './schema.ts'
