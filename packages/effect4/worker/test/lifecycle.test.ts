/** Core items seen from worker: a failed make starts nothing more; close leaves no thread, also of starts it interrupted. */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import { startLog, until, workerFile } from "./helpers.js"

describe("WorkerPool lifecycle", () => {
  it.live("a make that fails with WorkerStartupError imports the module no more afterwards", () =>
    Effect.gen(function*() {
      const log = startLog()
      const file = workerFile(`${log.record}throw new Error("boom at import")\n`)
      const exit = yield* Effect.exit(Effect.scoped(WorkerPool.make({ filename: file, minWorkers: 2, maxWorkers: 2 })))
      expect(Exit.isFailure(exit) && (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)?._tag).toBe("WorkerStartupError")
      const starts = log.count()
      yield* Effect.sleep("700 millis")
      expect(log.count()).toBe(starts)
    }))

  it.live("closing while threads are still starting: every thread started has exited when close ends", () =>
    Effect.gen(function*() {
      const file = workerFile(`await new Promise((r) => setTimeout(r, 300))\nexport default (x) => x`)
      let pool: WorkerPool.WorkerPool<number, number> | undefined
      yield* Effect.scoped(Effect.gen(function*() {
        pool = yield* WorkerPool.make<number, number>({ filename: file, minWorkers: 0, maxWorkers: 3 })
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => Effect.forkChild(WorkerPool.run(pool!, n)))
        yield* Effect.sleep("50 millis")
        yield* Effect.forEach(fibers, Fiber.interrupt)
      }))
      const stats = yield* WorkerPool.stats(pool!)
      expect(stats.exited).toBe(stats.started)
      yield* until("no thread alive", Effect.map(WorkerPool.stats(pool!), (s) => s.workers === 0))
    }))

  it.live("maxQueue counts only tasks beyond what running or starting threads take", () =>
    Effect.gen(function*() {
      const file = workerFile(`export default (ms) => new Promise((r) => setTimeout(() => r(ms), ms))`)
      const pool = yield* WorkerPool.make<number, number>({ filename: file, minWorkers: 0, maxWorkers: 2, maxQueue: 0, idleTimeout: Infinity })
      // two tasks, two threads starting for them: neither waits in the queue
      const both = yield* Effect.all([WorkerPool.run(pool, 200), WorkerPool.run(pool, 200)], { concurrency: "unbounded" })
      expect(both).toEqual([200, 200])
      const running = yield* Effect.forkChild(Effect.all([WorkerPool.run(pool, 300), WorkerPool.run(pool, 300)], { concurrency: "unbounded" }))
      yield* Effect.sleep("50 millis")
      const third = yield* Effect.exit(WorkerPool.run(pool, 1))
      expect(Exit.isFailure(third) && (Option.getOrUndefined(Cause.findErrorOption(third.cause)) as any)?._tag).toBe("PoolQueueFullError")
      expect(yield* Fiber.join(running)).toEqual([300, 300])
    }).pipe(Effect.scoped))

  it.live("maxQueue 0: one idle thread and one starting take two tasks", () =>
    Effect.gen(function*() {
      const file = workerFile(`export default (ms) => new Promise((r) => setTimeout(() => r(ms), ms))`)
      const pool = yield* WorkerPool.make<number, number>({ filename: file, minWorkers: 1, maxWorkers: 2, maxQueue: 0 })
      const both = yield* Effect.all([WorkerPool.run(pool, 100), WorkerPool.run(pool, 100)], { concurrency: "unbounded" })
      expect(both).toEqual([100, 100])
    }).pipe(Effect.scoped))
})
