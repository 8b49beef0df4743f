/** Port of piscina 5.3.2 test/simple-test.test.ts (see README.md for the tests not applicable). */
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Effect, Exit } from "effect"
import { fixture, pool, run } from "./helpers.js"

describe("piscina simple-test", () => {
  it.live("trivial eval() handler works", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("eval.js") })
      expect(yield* run(worker, "42")).toBe(42)
    }).pipe(Effect.scoped))

  it.live("async eval() handler works", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("eval.js") })
      expect(yield* run(worker, "Promise.resolve(42)")).toBe(42)
    }).pipe(Effect.scoped))

  it.live("passing env to workers works", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), env: { A: "foo" } })
      expect(yield* run(p, "({...process.env})")).toEqual({ A: "foo" })
    }).pipe(Effect.scoped))

  it.live("passing execArgv to workers works", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), execArgv: ["--no-warnings"] })
      expect(yield* run(p, "process.execArgv")).toEqual(["--no-warnings"])
    }).pipe(Effect.scoped))

  it.live("passing invalid workerData does not work", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(pool({ filename: fixture("eval.js"), workerData: { hello() {} } }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toMatch(/could not be cloned|workerData/)
    }).pipe(Effect.scoped))

  it.live("filename can be a file:// URL", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: pathToFileURL(fixture("eval.js")).href })
      expect(yield* run(worker, "42")).toBe(42)
    }).pipe(Effect.scoped))

  it.live("filename can be a file:// URL to an ESM module", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: pathToFileURL(fixture("esm-export.mjs")).href })
      expect(yield* run(worker, "42")).toBe(42)
    }).pipe(Effect.scoped))

  it.live("duration and utilization calculations work", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("eval.js") })
      // initial utilization is always 0 (ours: nothing running, nothing completed)
      const before = yield* WorkerPool.stats(worker)
      expect(before.running).toBe(0)
      expect(before.completed).toBe(0)
      yield* Effect.all([run(worker, "42"), run(worker, "41"), run(worker, "40")], {
        concurrency: "unbounded"
      })
      // tasks have run, and none is running now
      const after = yield* WorkerPool.stats(worker)
      expect(after.completed).toBe(3)
      expect(after.running).toBe(0)
    }).pipe(Effect.scoped))

  it.live("run works also", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("eval.js") })
      yield* run(worker, 42)
    }).pipe(Effect.scoped))
})

// Was pending; passes since worker/issue18.
// Cause: these .ts fixtures `import Piscina from '../..'` (piscina's package root in its repository):
// they loaded as ES modules, where a directory import is not supported. Fixed by loading .ts files
// in CommonJS scope through tsx's require hook (packages/engine/src/worker/runner.ts), with
// packages/testing/piscina/package.json standing for piscina's root (main → dist/main.js).
describe("piscina simple-test (was pending: TS fixtures importing '../..')", () => {
  for (const file of ["simple-isworkerthread.ts", "simple-isworkerthread-named-import.ts"]) {
    it.live(`Piscina.isWorkerThread has the correct value (worker) — ${file}`, () =>
      Effect.gen(function*() {
        const p = yield* pool({ filename: fixture(file) })
        expect(yield* run(p, null)).toBe(true)
      }).pipe(Effect.scoped))
  }
  for (const file of ["simple-workerdata.ts", "simple-workerdata-named-import.ts"]) {
    it.live(`passing valid workerData works — ${file}`, () =>
      Effect.gen(function*() {
        const p = yield* pool({ filename: fixture(file), workerData: "ABC" })
        expect(yield* run(p, null)).toBe("ABC")
      }).pipe(Effect.scoped))
  }
})

// Was pending; passes since main 5def2ca (fix/worker merged).
// Cause: CommonJS named exports — packages/engine/src/worker/runner.ts resolveExport reads `module[name]` of the
// ESM namespace that import() gives for a CommonJS file; Node's cjs-module-lexer does not see
// `a.a = a; module.exports = a`, so only `default` exists there (fix/worker).
describe("piscina simple-test (was pending: CommonJS named exports)", () => {
  it.live("named tasks work (default export a)", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("multiple.js") })
      expect(yield* run(worker, {}, { name: "a" })).toBe("a")
      expect(yield* run(worker, {}, { name: "b" })).toBe("b")
      expect(yield* run(worker, {})).toBe("a")
    }).pipe(Effect.scoped))

  it.live("named tasks work (pool name b)", () =>
    Effect.gen(function*() {
      const worker = yield* pool({ filename: fixture("multiple.js"), name: "b" })
      expect(yield* run(worker, {}, { name: "a" })).toBe("a")
      expect(yield* run(worker, {}, { name: "b" })).toBe("b")
      expect(yield* run(worker, {})).toBe("b")
    }).pipe(Effect.scoped))

})
