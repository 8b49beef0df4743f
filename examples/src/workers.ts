/**
 * Worker threads through @effect-pool/worker: pixel work (a blur over generated tiles) spread
 * over a pool of threads, while a chaos step crashes one thread on purpose half-way. The crash
 * costs only the task that caused it (a typed WorkerCrashedError); the pool replaces the thread
 * and every tile is processed.
 */
import { WorkerPool } from "@effect-pool/worker"
import { Context, Effect } from "effect"
import { availableParallelism } from "node:os"
import type { Tile } from "./tile-worker.js"
import { bar, type Panel } from "./view.js"
import { drive, type Progress } from "./workload.js"

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
  const progress: Progress = { done: 0, failed: 0 }
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
    yield* drive({
      total,
      fibers,
      progress,
      refresh: Effect.flatMap(WorkerPool.stats(pool), (s) => Effect.sync(() => (stats = s))),
      // chaos: one task ends its thread; only that task fails, with the exit code
      chaos: Effect.flatMap(Effect.flip(WorkerPool.run(pool, { seed: -1, size: 0, passes: 0 }, { name: "crash" })), (crash) =>
        crash._tag === "WorkerCrashedError" ? Effect.void : Effect.die(new Error(`expected a crash, got ${crash._tag}`))),
      item: (seed) => Effect.as(WorkerPool.run(pool, { seed, size: 96, passes: 3 }), true)
    })
    return {
      tiles: progress.done,
      failed: progress.failed,
      crashes: stats!.crashes,
      threadsStarted: stats!.started,
      workers: stats!.workers
    } satisfies WorkerReport
  })
  const panel: Panel = {
    title: `workers: ${total} tiles blurred on ${threads} threads, one thread crashed on purpose half-way`,
    rows: () => [
      `${bar(progress.done, total)}  ${progress.done}/${total} tiles, ${progress.failed} failed`,
      stats === undefined
        ? "starting…"
        : `${stats.workers} threads, ${stats.busy} busy, ${stats.queued} queued, ${stats.crashes} crashed, ${stats.started} started`
    ]
  }
  return { run, panel, layer }
}
