/**
 * @module web/request-id
 * The id each request gets (http/app.ts's request log; also the `X-Request-Id` header), kept on
 * the response so a door can put it in the events it records (events/log.ts) without reading
 * headers back.
 */
import type { ServerResponse } from 'node:http'

const ids = new WeakMap<ServerResponse, string>()

/** Remembers `id` as the request id of `res` (the request log does, first thing). */
export function setRequestId(res: ServerResponse, id: string): void {
  ids.set(res, id)
}

/**
 * The request id of `res`, or undefined outside the app (e.g. a test calling a router alone).
 * Takes Node's response, so oidc-provider's `ctx.res` works as well as express's `res`.
 */
export function requestIdOf(res: ServerResponse): string | undefined {
  return ids.get(res)
}
