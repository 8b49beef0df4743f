/**
 * Faults on real threads: crashes, modules that do not load, hangs, cancellation, resource
 * limits and close. Each shows the pool keeps working, loses nothing, leaks no thread and
 * reports the real cause.
 */
import { describe, expect, it } from "@effect/vitest"
import { PoolClosedError } from "@effect-pool/core"
import { WorkerPool } from "@effect-pool/worker"
import { Effect, Exit, Fiber, Scope } from "effect"
import { startLog, until, workerFile } from "./helpers.js"

const tasks = workerFile(`
import { threadId } from "node:worker_threads"
export default (ms) => new Promise((resolve) => setTimeout(() => resolve(threadId), ms))
export const exit = () => process.exit(3)
export const throwLater = () => new Promise(() => setTimeout(() => { throw new Error("thrown from a timer") }, 5))
export const throwValueLater = (kind) => new Promise(() => setTimeout(() => {
  throw kind === "null" ? null : kind === "undefined" ? undefined : kind === "string" ? "a string" : kind === "symbol" ? Symbol("boom")
    : kind === "object" ? { code: 42 } : { toString() { throw new Error("no string") }, get message() { throw new Error("no message") } }
}, 5))
export const spin = () => { for (;;) {} }
export const cooperative = (_, { signal }) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => resolve("finished"), 60_000)
  signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("stopped")) })
})
export const thread = () => threadId
export const hog = () => { const keep = []; for (;;) keep.push(new Array(1e6).fill(1.5)) }
`)

const stats = WorkerPool.stats

describe("WorkerPool faults", () => {
  it.live("a task that calls process.exit(3): WorkerCrashedError with the code; other threads' tasks finish; a replacement runs the next task", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({ filename: tasks, minWorkers: 2, maxWorkers: 2 })
      const other = yield* Effect.forkChild(WorkerPool.run(pool, 300))
      yield* until("the other task runs", Effect.map(stats(pool), (s) => s.running === 1))
      const crashed = yield* Effect.flip(WorkerPool.run(pool as any, null, { name: "exit" }))
      expect(crashed).toMatchObject({ _tag: "WorkerCrashedError", exitCode: 3 })
      expect(crashed.message).toMatch(/exited with code 3/)
      expect(typeof (yield* Fiber.join(other))).toBe("number")
      expect(yield* WorkerPool.run(pool, 1)).toEqual(expect.any(Number))
      yield* until("the pool is back to 2 threads", Effect.map(stats(pool), (s) => s.workers === 2))
      expect(yield* stats(pool)).toMatchObject({ crashes: 1, started: 3, exited: 1, failed: 1 })
    }).pipe(Effect.scoped))

  it.live("an error thrown from a timer mid-task: WorkerCrashedError carrying the error", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({ filename: tasks, minWorkers: 1, maxWorkers: 1 })
      const crashed = yield* Effect.flip(WorkerPool.run(pool as any, null, { name: "throwLater" }))
      expect(crashed._tag).toBe("WorkerCrashedError")
      if (crashed._tag !== "WorkerCrashedError") return
      expect(crashed.error?.message).toBe("thrown from a timer")
      expect(yield* WorkerPool.run(pool, 1)).toEqual(expect.any(Number))
      expect((yield* stats(pool)).crashes).toBe(1)
    }).pipe(Effect.scoped))

  it.live("a non-Error value thrown from a timer mid-task (null, undefined, a string, a Symbol, objects): WorkerCrashedError naming it, error an Error; the thread is replaced", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({ filename: tasks, minWorkers: 1, maxWorkers: 1 })
      const named = { null: "null", undefined: "undefined", string: '"a string"', symbol: "Symbol(boom)", object: '{"code":42}', hostile: '"{ toString: [Function: toString], message: [Getter] }"' } // Node passes a value it cannot clone as its description
      for (const [kind, name] of Object.entries(named)) {
        const crashed = yield* Effect.flip(WorkerPool.run(pool as any, kind, { name: "throwValueLater" }))
        expect(crashed._tag).toBe("WorkerCrashedError")
        if (crashed._tag !== "WorkerCrashedError") return
        expect(crashed.error).toBeInstanceOf(Error)
        expect(crashed.error?.message).toBe(`threw ${name} (not an Error)`)
        expect(crashed.message).toContain(`crashed: Error: threw ${name} (not an Error)`)
      }
      expect(yield* WorkerPool.run(pool, 1)).toEqual(expect.any(Number))
      expect((yield* stats(pool)).crashes).toBe(6)
    }).pipe(Effect.scoped))

  it.live("a module that throws at import: make fails with WorkerStartupError when minWorkers ≥ 1, no respawn loop", () =>
    Effect.gen(function*() {
      const log = startLog()
      const broken = workerFile(`${log.record}throw new Error("cannot load config")\nexport default () => 1\n`)
      const error = yield* Effect.flip(Effect.scoped(WorkerPool.make({ filename: broken, minWorkers: 2, maxWorkers: 2 })))
      expect(error._tag).toBe("WorkerStartupError")
      if (error._tag !== "WorkerStartupError") return
      expect(error.error?.message).toBe("cannot load config")
      expect(error.message).toMatch(/failed to load: Error: cannot load config/)
      expect(log.count()).toBeLessThanOrEqual(2)
    }))

  it.live("a module that throws at import with minWorkers 0: the queued tasks fail with WorkerStartupError, one start for all of them", () =>
    Effect.gen(function*() {
      const log = startLog()
      const broken = workerFile(`${log.record}throw new Error("cannot load config")\nexport default () => 1\n`)
      const pool = yield* WorkerPool.make<number, number>({ filename: broken, minWorkers: 0, maxWorkers: 1 })
      const results = yield* Effect.forEach([1, 2, 3, 4, 5], (n) => Effect.flip(WorkerPool.run(pool, n)), { concurrency: "unbounded" })
      expect(results.map((e) => e._tag)).toEqual(Array(5).fill("WorkerStartupError"))
      expect(log.count()).toBe(1)
      expect((yield* stats(pool)).started).toBe(1)
      // nothing keeps starting threads in the background
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 300)))
      expect(log.count()).toBe(1)
    }).pipe(Effect.scoped))

  it.live("a module that never finishes loading fails within startupTimeout", () =>
    Effect.gen(function*() {
      const stuck = workerFile(`await new Promise(() => setInterval(() => {}, 1000))\nexport default () => 1\n`)
      const error = yield* Effect.flip(Effect.scoped(WorkerPool.make({ filename: stuck, minWorkers: 1, maxWorkers: 1, startupTimeout: "300 millis" })))
      expect(error._tag).toBe("WorkerStartupError")
      expect(error.message).toMatch(/did not start within 300 ms/)
    }))

  // taskTimeout is a thread's wall-clock time (a plain timer per task, no fiber): the test waits
  // for the timeout's event, it asserts no duration
  it.live("while (true) with taskTimeout: TaskTimeoutError, the thread is terminated and replaced, the pool keeps its size", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: tasks, minWorkers: 1, maxWorkers: 1, taskTimeout: "200 millis", cancelGracePeriod: "50 millis" })
      const error = yield* Effect.flip(WorkerPool.run(pool, null, { name: "spin" }))
      expect(error).toMatchObject({ _tag: "TaskTimeoutError" })
      expect(error.message).toMatch(/longer than 200 ms/)
      yield* until("the spinning thread was replaced", Effect.map(stats(pool), (s) => s.exited === 1 && s.workers === 1))
      expect(yield* WorkerPool.run(pool, null, { name: "thread" })).toEqual(expect.any(Number))
      expect(yield* stats(pool)).toMatchObject({ timedOut: 1, crashes: 0, started: 2 })
    }).pipe(Effect.scoped))

  it.live("interrupting a task that never yields: the thread is terminated after cancelGracePeriod and replaced", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: tasks, minWorkers: 2, maxWorkers: 2, cancelGracePeriod: "100 millis" })
      const spinning = yield* Effect.forkChild(WorkerPool.run(pool, null, { name: "spin" }))
      const other = yield* Effect.forkChild(WorkerPool.run(pool, 200))
      yield* until("both tasks run", Effect.map(stats(pool), (s) => s.running === 2))
      yield* Fiber.interrupt(spinning)
      yield* until("the spinning thread ended", Effect.map(stats(pool), (s) => s.exited === 1))
      expect(yield* Fiber.join(other)).toEqual(expect.any(Number))
      yield* until("a replacement started", Effect.map(stats(pool), (s) => s.workers === 2 && s.started === 3))
      expect(yield* stats(pool)).toMatchObject({ cancelled: 1, crashes: 0, running: 0 })
    }).pipe(Effect.scoped))

  it.live("a cooperative handler that watches its signal stops early on interruption and keeps its worker", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: tasks, minWorkers: 1, maxWorkers: 1, cancelGracePeriod: "30 seconds" })
      const thread = yield* WorkerPool.run(pool, null, { name: "thread" })
      const waiting = yield* Effect.forkChild(WorkerPool.run(pool, null, { name: "cooperative" }))
      yield* until("the task runs", Effect.map(stats(pool), (s) => s.running === 1))
      yield* Fiber.interrupt(waiting)
      yield* until("the thread let go of the task", Effect.map(stats(pool), (s) => s.running === 0))
      expect(yield* WorkerPool.run(pool, null, { name: "thread" })).toBe(thread)
      expect(yield* stats(pool)).toMatchObject({ started: 1, exited: 0, cancelled: 1 })
    }).pipe(Effect.scoped))

  it.live("an Effect handler is interrupted in the thread when its task is", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { Effect } from "effect"
let interrupted = 0
export default () => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted++)))
export const count = () => interrupted
`)
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: file, minWorkers: 1, maxWorkers: 1, cancelGracePeriod: "30 seconds" })
      const never = yield* Effect.forkChild(WorkerPool.run(pool, null))
      yield* until("the task runs", Effect.map(stats(pool), (s) => s.running === 1))
      yield* Fiber.interrupt(never)
      yield* until("the thread let go of the task", Effect.map(stats(pool), (s) => s.running === 0))
      expect(yield* WorkerPool.run(pool, null, { name: "count" })).toBe(1)
      expect((yield* stats(pool)).exited).toBe(0)
    }).pipe(Effect.scoped))

  it.live("resourceLimits exceeded: WorkerCrashedError (ERR_WORKER_OUT_OF_MEMORY), then a replacement", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({
        filename: tasks,
        minWorkers: 1,
        maxWorkers: 1,
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 }
      })
      const error = yield* Effect.flip(WorkerPool.run(pool, null, { name: "hog" }))
      expect(error._tag).toBe("WorkerCrashedError")
      if (error._tag === "WorkerCrashedError") expect((error.error as any)?.code).toBe("ERR_WORKER_OUT_OF_MEMORY")
      expect(yield* WorkerPool.run(pool, null, { name: "thread" })).toEqual(expect.any(Number))
    }).pipe(Effect.scoped))

  it.live("closing with tasks running: short ones finish, one past shutdownTimeout fails with PoolClosedError; every thread exits", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const pool = yield* Scope.provide(WorkerPool.make<unknown, unknown>({ filename: tasks, minWorkers: 2, maxWorkers: 2, shutdownTimeout: "500 millis" }), scope)
      const short = yield* Effect.forkChild(WorkerPool.run(pool, 100))
      const spinning = yield* Effect.forkChild(WorkerPool.run(pool, null, { name: "spin" }))
      yield* until("both run", Effect.map(stats(pool), (s) => s.running === 2))
      yield* Scope.close(scope, Exit.void)
      expect(yield* Fiber.join(short)).toEqual(expect.any(Number))
      expect(yield* Effect.flip(Fiber.join(spinning))).toBeInstanceOf(PoolClosedError)
      const after = yield* stats(pool)
      expect(after.started).toBe(2)
      expect(after.exited).toBe(2)
      expect(yield* Effect.flip(WorkerPool.run(pool, 1))).toBeInstanceOf(PoolClosedError)
    }))
})
