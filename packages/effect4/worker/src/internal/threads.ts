/**
 * A worker pool's threads as its core pool's items: started by the core's `acquire`, the live
 * ones known, and the stats counters the task side shares.
 *
 * @internal
 */
import type { Pool } from "@effect-pool/core"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Exited, type StartupFailure, Thread, type ThreadOptions } from "@effect-pool/engine/worker/thread"
import { errorLabel } from "@effect-pool/engine/worker/protocol"
import { type Counters, makeCounters } from "@effect-pool/engine/worker/counters"
import { WorkerStartupError } from "../WorkerError.js"

export type { Counters } from "@effect-pool/engine/worker/counters"

/**
 * A pool's threads as its core `Pool`'s items: starts them (`acquire`), knows which are alive,
 * and reports a thread that crashed while idle to the pool through its item handle. Made
 * before the core pool (whose `acquire` it is), so the task side gets a finished pool.
 */
export class Threads {
  readonly counters: Counters = makeCounters()
  /** The pool is closing: threads it ends report PoolClosedError to their tasks. */
  closing = false
  /** Threads started and not yet exited. */
  readonly alive = new Set<Thread>()
  /** Threads whose exit is counted. */
  private readonly accounted = new WeakSet<Thread>()

  constructor(readonly poolName: string, readonly threadOptions: ThreadOptions) {}

  /** Starts one thread: the core pool's `acquire`. */
  readonly acquire = (item: Pool.ItemHandle): Effect.Effect<Thread, WorkerStartupError, Scope.Scope> => Effect.acquireRelease(
    Effect.callback<Thread, WorkerStartupError>((resume) => {
      this.counters.started++
      const thread: Thread = new Thread(this.threadOptions, (failure: StartupFailure | undefined) => {
        if (failure === undefined) {
          this.alive.add(thread)
          return resume(Effect.succeed(thread))
        }
        const cause = failure.error === undefined ? "" : `: ${errorLabel(failure.error)}`
        const error = new WorkerStartupError({
          threadId: failure.threadId,
          error: failure.error,
          message: `worker ${failure.threadId} of pool "${this.poolName}" ${failure.reason}${cause}`
        })
        resume(Effect.fail(error))
      })
      thread.onExit = (thread, exited) => this.onExit(thread, exited, item)
      return Effect.promise(() => thread.terminate("startup interrupted"))
    }),
    (thread) => Effect.promise(() => thread.terminate(this.closing ? "close" : "evicted"))
  )

  private onExit(thread: Thread, exited: Exited, item: Pool.ItemHandle): void {
    // an idle thread that died leaves the pool now; a borrowed one when its tasks return it
    if (this.accountExit(thread, exited)) item.invalidate()
  }

  /**
   * Counts a thread's exit once, from whichever comes first: the first of its tasks settled by
   * the exit (Effect 4 resumes that task's caller synchronously: the stats it reads next must
   * already hold the crash) or the exit itself (the engine calls `onExit` after the tasks).
   * Returns whether the thread crashed (exited without the pool ending it).
   */
  accountExit(thread: Thread, exited: Exited): boolean {
    const crashed = exited.terminatedBy === undefined && thread.ready
    if (this.accounted.has(thread)) return crashed
    this.accounted.add(thread)
    this.counters.exited++
    this.counters.parked += thread.parked
    this.alive.delete(thread)
    if (crashed) this.counters.crashes++
    return crashed
  }

  /** Tasks taken by threads while parked (`Stats.parked`): the exited threads' and the live ones'. */
  parked(): number {
    let parked = this.counters.parked
    for (const thread of this.alive) parked += thread.parked
    return parked
  }

  /** Threads running at least one task. */
  busy(): number {
    let busy = 0
    for (const thread of this.alive) if (thread.tasks.size > 0) busy++
    return busy
  }
}
