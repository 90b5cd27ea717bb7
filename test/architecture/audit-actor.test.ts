/**
 * Every configuration change names who made it (issue #14): each call in src/ to the integration
 * registry's `put` or `remove` passes the change's actor (`admin-api`, `cli`, `operator:<name>`),
 * so nothing in the product is recorded as `unattributed` in the audit log. Read from the
 * TypeScript syntax tree, so a call spread over several lines counts the same.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { expect, it } from 'vitest'

const SRC = path.resolve('src')
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  )

/** `integrations.put(…)` / `.remove(…)` calls (any receiver ending in `integrations`). */
function registryCalls(file: string) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest)
  const calls: { line: number; method: string; args: number }[] = []
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ['put', 'remove'].includes(node.expression.name.text) &&
      /integrations$/.test(node.expression.expression.getText(source))
    )
      calls.push({
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
        method: node.expression.name.text,
        args: node.arguments.length,
      })
    ts.forEachChild(node, visit)
  }
  visit(source)
  return calls
}

it('every integration put/remove in src/ names its actor', () => {
  const calls = files(SRC).flatMap((f) =>
    registryCalls(f).map((c) => ({ ...c, file: path.relative(SRC, f) })),
  )
  // The admin API and the CLI at least; a console page that changes an integration adds its own.
  expect(calls.map((c) => c.file)).toEqual(
    expect.arrayContaining(['http/admin/integrations.ts', 'cli/integrations.ts']),
  )
  for (const c of calls) {
    const wanted = c.method === 'put' ? 3 : 2
    expect(c.args, `${c.file}:${c.line} ${c.method}() without its actor`).toBe(wanted)
  }
})
