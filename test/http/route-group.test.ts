/**
 * The door a refused request is recorded at (http/route-group.ts refusalDoorOf): each door's
 * paths, the integration the token paths name (percent-decoded, or as it came when malformed),
 * and none for what is no door's — so a scan of random paths or the admin API's refusals never
 * reach the events table.
 */
import { describe, expect, it } from 'vitest'
import { refusalDoorOf } from '../../src/http/route-group.ts'

describe('refusalDoorOf', () => {
  it("names each door by its paths and the integration a token path carries; none for what is no door's", () => {
    expect(refusalDoorOf('/interaction/abc/confirm')).toEqual({ door: 'oidc' })
    expect(refusalDoorOf('/me')).toEqual({ door: 'oidc' })
    expect(refusalDoorOf('/saml/sso')).toEqual({ door: 'saml' })
    expect(refusalDoorOf('/ticket')).toEqual({ door: 'ticket' })
    expect(refusalDoorOf('/logout')).toEqual({ door: 'ticket' })
    expect(refusalDoorOf('/login')).toEqual({ door: 'login' })
    expect(refusalDoorOf('/api/v1/integrations/chat%20one/tokens')).toEqual({
      door: 'tokens',
      integrationId: 'chat one',
    })
    expect(refusalDoorOf('/tokens/minnit/redirect')).toEqual({
      door: 'tokens',
      integrationId: 'minnit',
    })
    expect(refusalDoorOf('/tokens/%E0%A4%A')).toEqual({ door: 'tokens', integrationId: '%E0%A4%A' })
    for (const path of ['/api/v1/users/1', '/console', '/wp-login.php', '/docs/x', '/healthz'])
      expect(refusalDoorOf(path), path).toBeNull()
  })
})
