// oidc-provider's back-channel guard: its table of special-use addresses (no types ship for it).
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  export function isSpecialUseIP(address: string): boolean
}
