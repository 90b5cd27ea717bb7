/**
 * @module console/routes/pages/notices
 * The notice a page shows after a change redirected to it (303, `?notice=<key>`): a closed set of
 * texts, so nothing from the URL is ever echoed into the page.
 */
import type { Request } from 'express'
import { escapeHtml } from '../../../web/views.ts'

/** Every notice a console page may show, by its key. */
export const NOTICES = {
  member_saved: 'Saved.',
  member_disabled: 'Disabled: the member can no longer sign in. Their sessions were ended.',
  member_enabled: 'Enabled: the member can sign in again.',
  member_deleted: 'Deleted, with everything the member held (sessions, grants, tokens).',
  member_signed_out: 'Signed out everywhere.',
  keys_rotated: 'Rotated. The new keys are in KEYS_DIR; restart the server to sign with them.',
} as const

/** A notice key. */
export type NoticeKey = keyof typeof NOTICES

/** `path?notice=key`: where a POST redirects after success. */
export const withNotice = (path: string, key: NoticeKey): string => `${path}?notice=${key}`

/** The notice of this request's `?notice=`, as HTML (a live region), or '' for none or unknown. */
export function noticeHtml(req: Request): string {
  const key = req.query.notice
  if (typeof key !== 'string' || !Object.hasOwn(NOTICES, key)) return ''
  return `<p class="notice" role="status" data-notice="${escapeHtml(key)}">${escapeHtml(NOTICES[key as NoticeKey])}</p>`
}
