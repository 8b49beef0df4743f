/** Core items seen from worker: a failed make starts nothing more; close leaves no thread, also of starts it interrupted. */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Effect, Exit, Fiber } from "effect"
import { startLog, until, workerFile } from "./helpers.js"

describe("WorkerPool lifecycle", () => {
  it.live("a make that fails with WorkerStartupError imports the module no more afterwards", () =>
    Effect.gen(function*() {
      const log = startLog()
      const file = workerFile(`${log.record}throw new Error("boom at import")\n`)
      const exit = yield* Effect.exit(Effect.scoped(WorkerPool.make({ filename: file, minWorkers: 2, maxWorkers: 2 })))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("WorkerStartupError")
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
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => Effect.fork(WorkerPool.run(pool!, n)))
        yield* Effect.sleep("50 millis")
        yield* Effect.forEach(fibers, Fiber.interrupt)
      }))
      const stats = yield* WorkerPool.stats(pool!)
      expect(stats.exited).toBe(stats.started)
      yield* until("no thread alive", Effect.map(WorkerPool.stats(pool!), (s) => s.workers === 0))
    }))
})
