/**
 * A pool's state as the plain snapshot every edition's `Pool.stats` returns (`PoolStats`): the
 * core's fields, read from the state machine in one pass. Effect-free, so both cores share it.
 *
 * @example
 * ```ts
 * import { snapshot } from "@effect-pool/engine/stats"
 * import type { PoolState } from "@effect-pool/engine/state"
 *
 * declare const state: PoolState<unknown>
 * const { size, idle, borrowed } = snapshot(state)
 * ```
 * @since 0.1.0
 */
import type { PoolState } from "./state.js"

/** The core's counters and gauges of one pool (each edition's `PoolStats` is this record). */
export interface Snapshot {
  readonly name: string
  /** Items alive: idle + borrowed. */
  readonly size: number
  readonly idle: number
  /** Active borrows (with `concurrency` > 1, can exceed the items borrowed). */
  readonly borrowed: number
  readonly waiting: number
  readonly creating: number
  /** Items out of rotation after a failed health check (`healthCheck.onFailure: "suspend"`). */
  readonly suspended: number
  readonly destroying: number
  readonly min: number
  readonly max: number
  /** Items created since start. */
  readonly created: number
  /** Items destroyed since start. */
  readonly destroyed: number
  /** Borrowers that hit `acquireTimeout`. */
  readonly timeouts: number
  /** Failed creation attempts. */
  readonly failures: number
  /** Borrows served. */
  readonly borrows: number
  /** Items invalidated (explicitly, by validation, recycle or health checks). */
  readonly invalidated: number
  readonly closed: boolean
}

/** The snapshot of `state` now. */
export const snapshot = (state: PoolState<unknown>): Snapshot => ({
  name: state.config.name,
  size: state.items.size,
  idle: state.idle.length,
  borrowed: state.borrowers,
  waiting: state.waiters.length,
  creating: state.creating,
  suspended: state.suspended,
  destroying: state.destroying,
  min: state.config.min,
  max: state.config.max,
  created: state.created,
  destroyed: state.destroyed,
  timeouts: state.timeouts,
  failures: state.failures,
  borrows: state.borrows,
  invalidated: state.invalidated,
  closed: state.closed
})
