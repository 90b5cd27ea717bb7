/**
 * @module tokens/paths
 * Where the token door's endpoints live, relative to the issuer: one table for tokens/routes/tokens.ts
 * and for the connection sheets operators copy from.
 */
export const TOKEN_ROUTES = {
  /** Server to server: POST `{"external_id"}` with the admin token or the integration's api_key. */
  api: (id: string) => `/api/v1/integrations/${id}/tokens`,
  /** Admin: POST `{"token"}` → its decrypted or verified content. */
  inspect: (id: string) => `/api/v1/integrations/${id}/inspect`,
  /** Admin: POST `{"external_id" | "id" | "username"}` → the dry run for that member. */
  dryRun: (id: string) => `/api/v1/integrations/${id}/dry-run`,
  /** Browser: GET with the bridge session cookie → the signed-in member's token (JSON, CORS). */
  browser: (id: string) => `/tokens/${id}`,
  /** Browser: GET → mints a token for the signed-in member and redirects to the platform with it. */
  redirect: (id: string) => `/tokens/${id}/redirect`,
} as const
