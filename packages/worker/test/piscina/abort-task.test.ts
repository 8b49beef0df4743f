/**
 * Port of piscina 5.3.2 test/abort-task.test.ts: piscina's `signal` (AbortController or
 * EventEmitter) is the caller's fiber interruption here (see README.md).
 */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Fiber, Scope } from "effect"
import { until } from "../helpers.js"
import { fixture, pending, pool, run } from "./helpers.js"

const TIMEOUT_MAX = 2 ** 31 - 1
const tagOf = (exit: Exit.Exit<unknown, unknown>): string | undefined =>
  Exit.isFailure(exit) ? (Cause.failureOption(exit.cause) as any).value?._tag : undefined

describe("piscina abort-task", () => {
  it.live("tasks can be aborted before running", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("wait-for-notify.js"), maxWorkers: 1, minWorkers: 1 })
      const bufs = [new Int32Array(new SharedArrayBuffer(4)), new Int32Array(new SharedArrayBuffer(4))]
      const task1 = yield* Effect.fork(run(p, bufs[0]))
      yield* until("task1 running", WorkerPool.stats(p).pipe(Effect.map((s) => s.running === 1)))
      const abortable = yield* Effect.fork(run(p, bufs[1]))
      yield* until("queued", WorkerPool.stats(p).pipe(Effect.map((s) => s.queued === 1)))
      yield* Fiber.interrupt(abortable)
      expect(Exit.isInterrupted(yield* Fiber.await(abortable))).toBe(true)
      expect((yield* WorkerPool.stats(p)).queued).toBe(0)
      Atomics.store(bufs[0]!, 0, 1)
      Atomics.notify(bufs[0]!, 0, 1)
      yield* Fiber.join(task1)
    }).pipe(Effect.scoped))

  it.live("abortable tasks (destroy workers): close fails the running tasks", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const p = yield* pool({ filename: fixture("sleep.js"), maxWorkers: 1, minWorkers: 1, concurrentTasksPerWorker: 2, shutdownTimeout: "50 millis" })
        .pipe(Scope.extend(scope))
      yield* run(p, { time: 0, a: 1 })
      const t2 = yield* Effect.fork(Effect.exit(run(p, { time: TIMEOUT_MAX, a: 2 })))
      const t3 = yield* Effect.fork(Effect.exit(run(p, { time: TIMEOUT_MAX, a: 3 })))
      yield* until("both running", WorkerPool.stats(p).pipe(Effect.map((s) => s.running === 2)))
      yield* Scope.close(scope, Exit.void)
      expect(tagOf(yield* Fiber.join(t2))).toBe("PoolClosedError")
      expect(tagOf(yield* Fiber.join(t3))).toBe("PoolClosedError")
    }))
})

// Documented difference (README: a task cancelled on a shared thread that does not let go gets the
// thread terminated; its neighbours fail with WorkerCrashedError) — piscina never puts an abortable
// task on a thread with another. Kept, and expected to fail on ours until that is decided.
describe.skipIf(pending)("piscina abort-task — pending: abortable tasks share threads (concurrentTasksPerWorker > 1)", () => {
  it.live("abortable tasks will not share workers (abortable posted first)", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("eval.js"), maxWorkers: 1, minWorkers: 1, concurrentTasksPerWorker: 2, cancelGracePeriod: "20 millis" })
      const abortable = yield* Effect.fork(run(p, "while(true);"))
      yield* Effect.sleep("20 millis")
      const task2 = yield* Effect.fork(run(p, "42"))
      yield* Fiber.interrupt(abortable)
      expect(yield* Fiber.join(task2)).toBe(42)
    }).pipe(Effect.scoped))

  it.live("abortable tasks will not share workers (on worker available)", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("sleep.js"), maxWorkers: 1, minWorkers: 1, concurrentTasksPerWorker: 2 })
      const ret = yield* Effect.all([run(p, { time: 100, a: 1 }), run(p, { time: 300, a: 2 }), run(p, { time: 100, a: 3 })], {
        concurrency: "unbounded"
      })
      expect(ret).toEqual([0, 1, 2])
    }).pipe(Effect.scoped))
})

// Cause (on main since 5def2ca): TypeScript worker files load now, but these fixtures import piscina
// by relative path — '../..' from test/piscina/fixtures/ is packages/worker/test/, a directory that
// is not a package ("Directory import … is not supported"). Fix: a packages/worker/test/package.json
// with "main" (or test/index.cjs) re-exporting the worker package's piscina-compat surface
// (default/isWorkerThread/workerData/move), outside test/piscina/ (lead's call).
describe.skipIf(pending)("piscina abort-task — pending: TS worker files", () => {
  it.live("aborted task is rejected immediately, and its data is not moved", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("move.ts") })
      const data = new Uint8Array(new SharedArrayBuffer(4))
      const task = yield* Effect.fork(run(p, data, { transfer: [data.buffer as any] }))
      yield* Fiber.interrupt(task)
      expect(Exit.isInterrupted(yield* Fiber.await(task))).toBe(true)
      expect(data.length).toBe(4)
    }).pipe(Effect.scoped))
})

// Was pending; passes since main 5def2ca (fix/worker merged).
describe("piscina abort-task (TS fixture)", () => {
  it.live("tasks can be aborted while running", () =>
    Effect.gen(function*() {
      const p = yield* pool({ filename: fixture("notify-then-sleep.ts"), cancelGracePeriod: "20 millis" })
      const buf = new Int32Array(new SharedArrayBuffer(4))
      const task = yield* Effect.fork(run(p, buf))
      yield* until("started", () => Atomics.load(buf, 0) === 1)
      yield* Fiber.interrupt(task)
      expect(Exit.isInterrupted(yield* Fiber.await(task))).toBe(true)
    }).pipe(Effect.scoped))
})
