/** Port of piscina 5.3.2 test/post-task.test.ts (see README.md for the tests not applicable). */
import { availableParallelism } from "node:os"
import { MessageChannel } from "node:worker_threads"
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Option } from "effect"
import { fixture, pool, run } from "./helpers.js"

const rejectsWith = (exit: Exit.Exit<unknown, unknown>, pattern: RegExp) => {
  expect(Exit.isFailure(exit)).toBe(true)
  if (Exit.isFailure(exit)) expect(Cause.pretty(exit.cause)).toMatch(pattern)
}

describe("piscina post-task", () => {
  it.live("postTask() resolves with a rejection when the handler rejects", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      rejectsWith(yield* Effect.exit(run(p, "Promise.reject(new Error(\"foo\"))")), /foo/)
    }).pipe(Effect.scoped))

  it.live("postTask() resolves with a rejection when the handler throws", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      rejectsWith(yield* Effect.exit(run(p, "throw new Error(\"foo\")")), /foo/)
    }).pipe(Effect.scoped))

  it.live("postTask() validates transferList", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      rejectsWith(yield* Effect.exit(run(p, "0", { transfer: 42 as any })), /transfer/)
    }).pipe(Effect.scoped))

  it.live("postTask() validates name", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      rejectsWith(yield* Effect.exit(run(p, "0", { name: 42 as any })), /name/)
    }).pipe(Effect.scoped))

  it.live("Piscina exposes needsDrain when capacity is exceeded (ours: maxQueue rejects the excess at once)", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), maxQueue: 3, maxWorkers: 1, minWorkers: 1 })
      // 1 running + 3 queued: all four complete, like piscina's (needsDrain is only a signal there)
      const results = yield* Effect.all([0, 1, 2, 3].map(() => run(p, "123")), { concurrency: "unbounded" })
      expect(results).toEqual([123, 123, 123, 123])
    }).pipe(Effect.scoped))

  it.live("Piscina can use async loaded workers", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval-async.js") })
      expect(yield* run(p, "1")).toBe(1)
    }).pipe(Effect.scoped))

  it.live("Piscina can use async loaded esm workers", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("esm-async.mjs") })
      expect(yield* run(p, "1")).toBe(1)
    }).pipe(Effect.scoped))

  it.live("maxThreads (custom) is used", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), maxWorkers: 3, minWorkers: 0 })
      yield* Effect.all([0, 1, 2, 3, 4, 5].map(() => run(p, "new Promise((r) => setTimeout(r, 50))")), { concurrency: "unbounded" })
      expect((yield* WorkerPool.stats(p)).started).toBeLessThanOrEqual(3)
    }).pipe(Effect.scoped))

  it.live("minThreads (default) is max(floor(availableParallelism / 2), 1)", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      expect((yield* WorkerPool.stats(p)).workers).toBe(Math.max(Math.floor(availableParallelism() / 2), 1))
    }).pipe(Effect.scoped))
})

// Was pending; passes since worker/issue18.
// Cause: these .ts fixtures `import Piscina from '../..'` (piscina's package root in its repository):
// they loaded as ES modules, where a directory import is not supported. Fixed by loading .ts files
// in CommonJS scope through tsx's require hook (src/internal/runner.ts), with
// packages/testing/piscina/package.json standing for piscina's root (main → dist/main.js).
describe("piscina post-task (was pending: TS fixtures importing '../..')", () => {
  it.live("postTask() can transfer ArrayBuffer instances", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("simple-isworkerthread.ts") })
      const ab = new ArrayBuffer(40)
      yield* run(p, { ab }, { transfer: [ab] })
      expect((yield* WorkerPool.stats(p)).completed).toBe(1)
      expect(ab.byteLength).toBe(0)
    }).pipe(Effect.scoped))

  it.live("postTask() cannot clone build-in objects", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("simple-isworkerthread.ts") })
      const obj = new MessageChannel().port1
      const exit = yield* Effect.exit(run(p, { obj }))
      obj.close()
      // a MessagePort must be transferred, not cloned: nothing is sent (piscina rejects the task)
      const error: any = Exit.isFailure(exit) ? (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any) : undefined
      expect(error?._tag).toBe("TaskInputError")
      expect(error?.argument).toBe("input")
    }).pipe(Effect.scoped))
})

// Was pending; passes since main 5def2ca (fix/worker merged).
// Cause: minWorkers readiness — src/internal/pool.ts make waits for one thread, not minWorkers (fix/worker).
describe("piscina post-task (was pending: minWorkers readiness)", () => {
  it.live("minThreads (custom) is used", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), minWorkers: 2, maxWorkers: 2 })
      expect((yield* WorkerPool.stats(p)).workers).toBe(2)
    }).pipe(Effect.scoped))
})

// Was pending; passes since main 5def2ca (fix/worker merged).
// Cause: run's options are not validated — src/WorkerPool.ts run (dual, ~line 403) and
// src/internal/pool.ts run (~line 168) read options?.name/transfer/timeout of any value; a number
// runs the task (unknown bug; not on the fix list).
describe("piscina post-task (was pending: RunOptions not validated)", () => {
  it.live("Piscina.run options is correct type", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js") })
      rejectsWith(yield* Effect.exit(run(p, 42, 1 as any)), /options|object/)
    }).pipe(Effect.scoped))
})
