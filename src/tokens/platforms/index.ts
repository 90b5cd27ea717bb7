/**
 * @module tokens/platforms
 * The token door's platform types, one file each: its registry definition (settings schema,
 * secrets, default mapping, connection sheet), `issue` and `inspect`.
 */
import type { TokenPlatform } from '../types.ts'
import * as boostgpt from './boostgpt-jwt.ts'
import * as deadsimplechat from './deadsimplechat.ts'
import * as jwt from './jwt.ts'
import * as meltingspot from './meltingspot-jwt.ts'
import * as minnit from './minnit-zero-click.ts'

export { minnitZeroClickType } from './minnit-zero-click.ts'
export { boostgptJwtType } from './boostgpt-jwt.ts'
export { meltingspotJwtType } from './meltingspot-jwt.ts'
export { deadsimplechatType } from './deadsimplechat.ts'
export { genericJwtType } from './jwt.ts'

/** Every token type, by integration type name. */
export const TOKEN_PLATFORMS: Readonly<Record<string, TokenPlatform>> = Object.freeze({
  [minnit.minnitZeroClickType.type]: {
    definition: minnit.minnitZeroClickType,
    issue: minnit.issue,
    inspect: minnit.inspect,
    redirectCheck: () => {},
  },
  [boostgpt.boostgptJwtType.type]: {
    definition: boostgpt.boostgptJwtType,
    issue: boostgpt.issue,
    inspect: boostgpt.inspect,
  },
  [meltingspot.meltingspotJwtType.type]: {
    definition: meltingspot.meltingspotJwtType,
    issue: meltingspot.issue,
    inspect: meltingspot.inspect,
    redirectCheck: meltingspot.redirectCheck,
  },
  [deadsimplechat.deadsimplechatType.type]: {
    definition: deadsimplechat.deadsimplechatType,
    issue: deadsimplechat.issue,
    inspect: deadsimplechat.inspect,
    redirectCheck: () => {},
  },
  [jwt.genericJwtType.type]: {
    definition: jwt.genericJwtType,
    issue: jwt.issue,
    inspect: jwt.inspect,
    redirectCheck: jwt.redirectCheck,
  },
})
