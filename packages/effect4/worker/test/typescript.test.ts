/**
 * TypeScript worker files: loaded in the thread as under tsx when tsx resolves from the file (its
 * CommonJS hook registered there, as piscina's threads have it under `tsx`), else left to Node.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Option } from "effect"
import { workerFile } from "./helpers.js"

const failureOf = (exit: Exit.Exit<unknown, unknown>): any =>
  Exit.isFailure(exit) ? (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any) : undefined

describe("TypeScript worker files", () => {
  it.live("CommonJS scope: types, `import` and `module.exports` in one file (imports compiled to require)", () =>
    Effect.gen(function*() {
      // what piscina's wait-for-others.ts does; as ESM `module` is undefined, as CommonJS `import` is a SyntaxError
      const file = workerFile(`
import { threadId } from "node:worker_threads"
import { basename } from "node:path"
interface Input { readonly n: number }
module.exports = (input: Input): string => \`\${input.n * 2} \${typeof threadId} \${basename(__filename)}\`
`, "ts", "commonjs")
      const pool = yield* WorkerPool.make<{ n: number }, string>({ filename: file, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool, { n: 21 })).toBe(`42 number ${file.slice(file.lastIndexOf("/") + 1)}`)
    }).pipe(Effect.scoped))

  it.live("CommonJS scope: `export default` and named exports", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { createHash } from "node:crypto"
export default (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 8)
export const add = ([a, b]: readonly [number, number]): number => a + b
enum Kind { A = 1, B = 2 }
export const kind = (name: "A" | "B"): number => Kind[name]
`, "ts", "commonjs")
      const pool = yield* WorkerPool.make<any, any>({ filename: file, maxWorkers: 1, execArgv: [] })
      expect(yield* WorkerPool.run(pool, "hello")).toBe("2cf24dba")
      expect(yield* WorkerPool.run(pool, [2, 3], { name: "add" })).toBe(5)
      // an enum: not erasable syntax, so Node's own type stripping could not run this file
      expect(yield* WorkerPool.run(pool, "B", { name: "kind" })).toBe(2)
    }).pipe(Effect.scoped))

  it.live("module scope (package.json \"type\": \"module\"): exports and import.meta", () =>
    Effect.gen(function*() {
      const file = workerFile(`
export default (n: number): number => n + 1
export const where = (): string => import.meta.url
`, "ts", "module")
      const pool = yield* WorkerPool.make<any, any>({ filename: file, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool, 1)).toBe(2)
      expect(yield* WorkerPool.run(pool, null, { name: "where" })).toBe(pathToFileURL(file).href)
    }).pipe(Effect.scoped))

  it.live("where tsx does not resolve, Node decides: its type stripping, or WorkerStartupError without it", () =>
    Effect.gen(function*() {
      // outside this repository: no node_modules above it
      const folder = mkdtempSync(join(tmpdir(), "effect-pool-ts-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(folder, { recursive: true, force: true })))
      const file = join(folder, "task.ts")
      writeFileSync(file, "module.exports = (n: number): number => n * 3\n")
      const made = yield* Effect.exit(WorkerPool.make<number, number>({ filename: file, maxWorkers: 1, minWorkers: 1 }))
      if ((process.features as { typescript?: unknown }).typescript) {
        // Node ≥ 22.18 / 23.6: erasable syntax is stripped, the file is CommonJS (no package.json type)
        expect(Exit.isSuccess(made)).toBe(true)
        if (Exit.isSuccess(made)) expect(yield* WorkerPool.run(made.value, 2)).toBe(6)
      } else {
        // Node 20: require() reads it as JavaScript
        expect(failureOf(made)?._tag).toBe("WorkerStartupError")
        expect(String(failureOf(made)?.message)).toMatch(/SyntaxError/)
      }
    }).pipe(Effect.scoped))
})
