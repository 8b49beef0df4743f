/**
 * One backend's connection state as the waits for its channels see it, with grpc's semantics of
 * a call waiting for a connection: fail-fast (UNAVAILABLE once a connection attempt fails while
 * no channel is connected — at once, on the next turn of the event loop, if the backend is
 * failing to connect right now) or `waitForReady` (until a channel is READY), either way the
 * call's deadline. No runtime: the edition's pool borrows from its core pool and arms each wait
 * that has to wait here (`arm`), giving the function that ends that wait with an error.
 *
 * @example
 * ```ts
 * import { BackendWaits } from "@effect-pool/engine/grpc/wait"
 *
 * const waits = new BackendWaits<string>(false)
 * waits.connecting++
 * const settle = waits.arm({ waitForReady: undefined, deadline: Date.now() + 1_000 }, (error) => console.log("ends with", error), () => "DEADLINE_EXCEEDED")
 * console.log(waits.load().waitingCalls) // 1: the pick counts it
 * waits.connectionFailed("UNAVAILABLE: connection refused") // ends with UNAVAILABLE: connection refused
 * settle()
 * console.log(waits.waiting) // 0
 * ```
 * @since 0.1.0
 */
import { MAX_TIMER_MILLIS } from "../options.js"
import type { Load } from "./backends.js"

/** What of a pooled channel the waits read (the engine's `PooledChannel` has it). */
export interface WaitChannel {
  readonly lost: boolean
  readonly closed: boolean
  readonly item: { readonly borrowers: number } | undefined
}

/** What of a call's options a wait reads (grpc's `Deadline`: a `Date`, ms since the epoch, or `Infinity`). */
export interface WaitOptions {
  /** `undefined`: the pool's default. */
  readonly waitForReady: boolean | undefined
  readonly deadline: Date | number
}

/** One backend's channels, connection attempts and the fail-fast waits for them; `E` the edition's error. */
export class BackendWaits<E, C extends WaitChannel = WaitChannel> {
  /** Its channels connected (added when READY, removed when closed). */
  readonly channels = new Set<C>()
  /** Channels being connected now. */
  connecting = 0
  /** Why the last connection attempt failed; cleared by the next that succeeds. */
  failure: E | undefined = undefined
  /** Fail-fast waits: each ends with the error when the backend cannot connect. */
  private readonly failFast = new Set<(error: E) => void>()
  /** Waits armed and not settled yet. */
  private armed = 0

  constructor(
    /** Calls wait for a connection by default (the pool's `waitForReady`). */
    readonly waitForReady: boolean,
    /** Streams per channel (the pool's `maxConcurrentStreamsPerChannel`): the load's `capacity`; `undefined`: not known. */
    readonly streams?: number | undefined
  ) {}

  /**
   * Calls waiting for one of its channels now: the waits armed and not settled yet. The edition
   * arms every borrow of the backend's core pool that is not lent at once, and settles it when it
   * ends (lent, failed, given up), so this is the core pool's waiting borrowers — fail-fast waits,
   * `waitForReady` ones and a failure due on the next turn alike.
   */
  get waiting(): number {
    return this.armed
  }

  /** Its load now, for the pick: channels in rotation, the calls on them, and the calls waiting for one. */
  load(): Load {
    let channels = 0
    let activeCalls = 0
    for (const pooled of this.channels) {
      if (pooled.lost || pooled.closed) continue
      channels++
      activeCalls += pooled.item?.borrowers ?? 0
    }
    return this.streams === undefined
      ? { channels, activeCalls, waitingCalls: this.armed }
      : { channels, activeCalls, waitingCalls: this.armed, capacity: channels * this.streams }
  }

  /** A channel in rotation or able to come back (connected, not lost): a wait for it is not fail-fast's business. */
  hasConnection(): boolean {
    for (const pooled of this.channels) if (!pooled.lost && !pooled.closed) return true
    return false
  }

  /** A connection attempt failed with `error`: fail-fast waits end with it, unless a connection is up. */
  connectionFailed(error: E): void {
    this.failure = error
    if (this.failFast.size === 0 || this.hasConnection()) return
    for (const fail of [...this.failFast]) fail(error)
  }

  /** A channel connected: the last failure is over. */
  connected(): void {
    this.failure = undefined
  }

  /**
   * Arms a wait still waiting (not lent at once): fail-fast listing (or the failure now, on the
   * next turn of the event loop, while the backend is failing to connect with no connection up)
   * and the deadline's timer (in steps under the timer limit); it counts in `waiting` until
   * settled. `giveUp` ends the wait with an error (the edition's `Borrow.abort`); the function
   * returned ends the listing and the timer and the count — call it when the wait ends, however
   * it ends (again: nothing).
   */
  arm(options: WaitOptions, giveUp: (error: E) => void, deadlineExceeded: () => E): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined
    let listed = false
    let counted = true
    this.armed++
    const settle = () => {
      if (counted) this.armed--
      counted = false
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      if (listed) this.failFast.delete(giveUp)
      listed = false
    }
    if (!(options.waitForReady ?? this.waitForReady)) {
      // grpc's fail-fast: a channel in TRANSIENT_FAILURE fails a call at once; here, a backend
      // whose last attempt failed, that is trying again, and has no connection up
      if (this.failure !== undefined && this.connecting > 0 && !this.hasConnection()) {
        // on the next turn of the event loop, as grpc-js reports it: a caller retrying in a loop
        // without a pause must not starve the I/O that would let the pool connect again (a
        // channel lent meanwhile is the call's; a cancel meanwhile drops the failure)
        const failure = this.failure
        setImmediate(() => giveUp(failure))
        return settle
      }
      this.failFast.add(giveUp)
      listed = true
    }
    if (options.deadline !== Infinity) {
      const at = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline
      const arm = () => {
        const left = at - Date.now()
        if (left > MAX_TIMER_MILLIS) timer = setTimeout(arm, MAX_TIMER_MILLIS)
        else timer = setTimeout(() => giveUp(deadlineExceeded()), Math.max(0, left))
      }
      arm()
    }
    return settle
  }
}
