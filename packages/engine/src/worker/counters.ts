/**
 * The counters a worker pool keeps beyond its core pool's (`WorkerPool.stats`): plain numbers
 * that the thread side (starts, exits, crashes) and the task side (outcomes, recycles, running)
 * both update. The same record in every edition's worker pool.
 *
 * @example
 * ```ts
 * import { makeCounters } from "@effect-pool/engine/worker/counters"
 *
 * const counters = makeCounters()
 * counters.started++
 * console.log(counters.started, counters.crashes) // 1 0
 * ```
 * @since 0.1.0
 */

/** Counters of `WorkerPool.stats` beyond the core's. */
export interface Counters {
  completed: number
  failed: number
  cancelled: number
  timedOut: number
  crashes: number
  recycles: number
  started: number
  exited: number
  running: number
  /** Tasks taken while parked by threads that have exited (a live thread's own count is in its wake word). */
  parked: number
}

/** All counters at 0. */
export const makeCounters = (): Counters => ({
  completed: 0,
  failed: 0,
  cancelled: 0,
  timedOut: 0,
  crashes: 0,
  recycles: 0,
  started: 0,
  exited: 0,
  running: 0,
  parked: 0
})
