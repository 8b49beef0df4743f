/**
 * The loop every example workload shares: `fibers` fibers take items 0…total-1 in turn and run
 * each (a chaos step may run first, once, half-way), while the pool's stats are refreshed for
 * the live view; the stats are read once more at the end.
 */
import { Effect, Fiber, Schedule } from "effect"

export interface Progress {
  done: number
  failed: number
}

export const drive = <E, R>(options: {
  readonly total: number
  readonly fibers: number
  readonly progress: Progress
  /** Reads the pool's stats for the view. */
  readonly refresh: Effect.Effect<void, never, R>
  /** Runs once, by the fiber that takes the first item past half-way. */
  readonly chaos: Effect.Effect<void, E, R>
  /** One item: `false` (or a failure) counts as failed. */
  readonly item: (i: number) => Effect.Effect<boolean, unknown, R>
}): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    const { progress, total } = options
    const refresher = yield* Effect.fork(Effect.repeat(options.refresh, Schedule.spaced("50 millis")))
    let next = 0
    let chaosDone = false
    const worker = Effect.gen(function*() {
      while (next < total) {
        const i = next++
        if (!chaosDone && i >= total / 2) {
          chaosDone = true
          yield* options.chaos
        }
        const ok = yield* options.item(i).pipe(Effect.catchAll(() => Effect.succeed(false)))
        if (!ok) progress.failed++
        progress.done++
      }
    })
    yield* Effect.all(Array.from({ length: options.fibers }, () => worker), { concurrency: "unbounded", discard: true })
    yield* Fiber.interrupt(refresher) // before the layer closes: the last stats are the live ones
    yield* options.refresh
  })
