/**
 * Defect (issue #10, "Errors, never 500"): a CSV import with a quote inside an unquoted cell
 * (`1,a"b`) answered 500. csv-parse names that error INVALID_OPENING_QUOTE, without the CSV_
 * prefix the reader checked for, so it escaped as an internal error. Now every csv-parse error
 * is told apart by its class (CsvError):
 * - in a data row, it is a rejected record on its line with the code `import_format_invalid`,
 *   the rows before it are imported and the rows after it are not read (past a broken quote no
 *   parser can tell where the next record begins), as the import section of the README says;
 * - in the header row, no record can be read at all: 400 `import_format_invalid`, nothing written.
 * The cell's text (it may hold a password hash) is never echoed.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp()
})
afterEach(async () => {
  expect(t.logs.filter((l) => typeof l.status === 'number' && l.status >= 500)).toEqual([])
  await t.close()
})

const csv = (body: string, query = '') =>
  request(t.app)
    .post(`/api/v1/users/import${query}`)
    .set(auth)
    .set('Content-Type', 'text/csv')
    .send(body)
const ids = async () =>
  (await t.services.store.listAccounts({ after: null, limit: 100 })).items
    .map((a) => a.external_id)
    .sort()

describe('CSV quote errors never answer 500', () => {
  it('a quote inside an unquoted cell: the rows before it land, it is rejected on its line, later rows are not read', async () => {
    const res = await csv(
      'external_id,username,password_hash\n1,ann,\n2,b"ob,$P$secretHashValue\n3,cid,\n',
    )
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ received: 2, accepted: 1, committed: true })
    expect(res.body.rejected).toEqual([
      {
        line: 3,
        error: 'import_format_invalid',
        message:
          'CSV cannot be read from this line on (later rows were not read): a quote inside an unquoted cell (quote the cell and double the quote: "a""b")',
      },
    ])
    expect(res.text).not.toContain('secretHashValue')
    expect(res.text).not.toContain('b"ob')
    expect(await ids()).toEqual(['1'])
  })

  it('text after a closing quote and an unclosed quote are reported the same way', async () => {
    for (const row of ['2,"b"ob', '2,"bob']) {
      const res = await csv(`external_id,username\n1,ann\n${row}\n3,cid\n`)
      expect(res.status, row).toBe(200)
      expect(res.body.rejected, row).toEqual([
        {
          line: expect.any(Number),
          error: 'import_format_invalid',
          message: expect.stringContaining('CSV cannot be read'),
        },
      ])
      expect(res.body.rejected[0].line).toBeGreaterThanOrEqual(3)
    }
    expect(await ids()).toEqual(['1'])
  })

  it('atomic: one quote error rolls the whole import back (422)', async () => {
    const res = await csv('external_id,username\n1,ann\n2,b"ob\n', '?atomic=true')
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({
      error: 'import_rejected',
      committed: false,
      rejected: [{ line: 3, error: 'import_format_invalid' }],
    })
    expect(await ids()).toEqual([])
  })

  it('a quote error in the header row is 400 import_format_invalid, nothing written', async () => {
    for (const header of ['exter"nal_id,username', '"external_id,username']) {
      const res = await csv(`${header}\n1,ann\n`)
      expect(res.status, header).toBe(400)
      expect(res.body).toEqual({
        error: 'import_format_invalid',
        message: expect.stringContaining('the CSV header row cannot be read'),
      })
    }
    expect(t.logs.filter((l) => l.code === 'ERR_IMPORT_FORMAT' && l.status === 400)).toHaveLength(2)
    expect(await ids()).toEqual([])
  })
})
