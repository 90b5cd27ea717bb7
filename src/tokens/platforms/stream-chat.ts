/**
 * @module tokens/platforms/stream-chat
 * Stream Chat's user tokens, as data (tokens/definition.ts).
 *
 * Contract (https://getstream.io/chat/docs/node/tokens_and_authentication/): a user token is an
 * HS256 JWT signed with the app's API secret whose payload carries `user_id` ("the token must
 * include the userID claim"); `createToken(user_id, exp, iat)` may add `exp` and `iat`. The
 * client connects with it: `client.connectUser({ id: user_id }, token)`.
 */
import { z } from 'zod'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { lifetime } from '../../integrations/schemas.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

const settings = z.strictObject({
  /** The app's public API key (the client's `StreamChat.getInstance(apiKey)`). */
  stream_api_key: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be the app’s API key'),
  /** Seconds a token stays valid (`exp`). */
  token_ttl: lifetime(3600, 30 * 86_400),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `stream-chat` integration type (user token: HS256 JWT with `user_id`). */
export const streamChat = definePlatform<Settings>({
  type: 'stream-chat',
  description: 'Stream Chat user token (HS256 JWT with user_id)',
  docs: ['https://getstream.io/chat/docs/node/tokens_and_authentication/'],
  guide: {
    title: 'Stream Chat — user tokens',
    platform: 'Stream',
    fields: {
      stream_api_key: { label: 'Key', help: 'Dashboard → (the app) → App Access Keys → Key' },
      api_secret: { label: 'Secret', help: 'Dashboard → (the app) → App Access Keys → Secret' },
    },
  },
  settings,
  secrets: {
    api_secret: {
      description: "the app's API secret (Stream dashboard → App Access Keys)",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping: { user_id: 'external_id' },
  fields: { user_id: { kind: 'id', required: true, max: 255 } },
  builder: jwtBuilder<Settings>({ alg: 'HS256', secret: 'api_secret', ttl: (s) => s.token_ttl }),
  delivery: {
    kind: 'js-call',
    script: (b, s) =>
      `await StreamChat.getInstance(${scriptString(s.stream_api_key)}).connectUser({ id: ${scriptString(String(b.payload.user_id))} }, ${scriptString(b.token)});`,
  },
  sheet: () => ({
    platform: 'Stream Chat',
    paste_into_platform: [],
    copy_from_platform: [
      { setting: 'Dashboard → the app → App Access Keys → Secret', secret: 'api_secret' },
    ],
    notes: [
      'Connect the client with the token\'s "script" (connectUser); as a token provider, fetch the browser token URL and return its "token".',
      'Turn off "Disable Auth Checks" in the app once this works.',
    ],
  }),
})
