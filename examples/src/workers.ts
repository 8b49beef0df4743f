/**
 * Worker threads through @effect-pool/worker: pixel work (a blur over generated tiles) spread
 * over a pool of threads, while a chaos step crashes one thread on purpose half-way. The crash
 * costs only the task that caused it (a typed WorkerCrashedError); the pool replaces the thread
 * and every tile is processed.
 */
import { WorkerPool } from "@effect-pool/worker"
import { Context, Effect, Fiber, Schedule } from "effect"
import { availableParallelism } from "node:os"
import type { Tile } from "./tile-worker.js"
import { bar, type Panel } from "./view.js"

/** The tile pool as a service: its layer is composed like any other. */
export class Tiles extends Context.Tag("Tiles")<Tiles, WorkerPool.WorkerPool<Tile, number>>() {}

export interface WorkerReport {
  readonly tiles: number
  readonly failed: number
  readonly crashes: number
  readonly threadsStarted: number
  readonly workers: number
}

export const workerWorkload = (total: number, fibers: number) => {
  const threads = Math.max(2, availableParallelism())
  let done = 0
  let failed = 0
  let stats: WorkerPool.Stats | undefined
  const layer = WorkerPool.layer(Tiles, {
    // the built module (from src/ under vitest, from dist/ when run): a worker runs JavaScript
    filename: new URL("../dist/tile-worker.js", import.meta.url),
    poolName: "tiles",
    minWorkers: threads,
    maxWorkers: threads,
    taskTimeout: "30 seconds"
  })
  const run = Effect.gen(function*() {
    const pool = yield* Tiles
    const refresh = Effect.flatMap(WorkerPool.stats(pool), (s) => Effect.sync(() => (stats = s)))
    const refresher = yield* Effect.fork(Effect.repeat(refresh, Schedule.spaced("50 millis")))
    let next = 0
    let crashed = false
    const worker = Effect.gen(function*() {
      while (next < total) {
        const seed = next++
        if (!crashed && seed >= total / 2) {
          crashed = true
          // chaos: one task ends its thread; only that task fails, with the exit code
          const crash = yield* Effect.flip(WorkerPool.run(pool, { seed, size: 0, passes: 0 }, { name: "crash" }))
          if (crash._tag !== "WorkerCrashedError") return yield* Effect.die(new Error(`expected a crash, got ${crash._tag}`))
        }
        const ok = yield* WorkerPool.run(pool, { seed, size: 96, passes: 3 }).pipe(
          Effect.as(true),
          Effect.catchAll(() => Effect.succeed(false))
        )
        if (!ok) failed++
        done++
      }
    })
    yield* Effect.all(Array.from({ length: fibers }, () => worker), { concurrency: "unbounded", discard: true })
    yield* Fiber.interrupt(refresher)
    yield* refresh
    return {
      tiles: done,
      failed,
      crashes: stats!.crashes,
      threadsStarted: stats!.started,
      workers: stats!.workers
    } satisfies WorkerReport
  })
  const panel: Panel = {
    title: `workers: ${total} tiles blurred on ${threads} threads, one thread crashed on purpose half-way`,
    rows: () => [
      `${bar(done, total)}  ${done}/${total} tiles, ${failed} failed`,
      stats === undefined
        ? "starting…"
        : `${stats.workers} threads, ${stats.busy} busy, ${stats.queued} queued, ${stats.crashes} crashed, ${stats.started} started`
    ]
  }
  return { run, panel, layer }
}
