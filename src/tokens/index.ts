/**
 * @module tokens
 * The platform token door: Minnit zero-click, BoostGPT and MeltingSpot JWTs, Dead Simple Chat
 * access tokens, generic HS256 JWTs.
 */
export {
  createTokenService,
  type InspectResult,
  type LoadedTokenIntegration,
  type TokenService,
  type TokenServiceDeps,
} from './service.ts'
export { TOKEN_PLATFORMS } from './platforms/index.ts'
export { TOKEN_ROUTES } from './paths.ts'
export type { Inspected, IssueOptions, IssuedToken, TokenDeps, TokenPlatform } from './types.ts'
