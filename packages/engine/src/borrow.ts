/**
 * A borrow without a fiber, as an object: for kinds whose I/O is callback-based (an edition's
 * `Pool.unsafeBorrow`). It is the one place that knows whether the borrower is still waiting,
 * holds an item, or is done — so a kind never keeps its own `waiting` flag, `returned` flag or
 * cancel function, and "send once more on another item, if nothing left" is `retry()`, written
 * once for both editions. The edition supplies its pool (`BorrowHost`) and how it spells an
 * exit (`BorrowExits`); nothing here imports `effect`.
 *
 * @example
 * ```ts
 * import { Borrow } from "@effect-pool/engine"
 * import type { State } from "@effect-pool/engine"
 *
 * // a pool of one idle item, as a host; exits as plain strings
 * const idle: State.Item<string> = { value: "conn" } as State.Item<string>
 * const host: Borrow.BorrowHost<string, string, string> = {
 *   unsafeBorrow: (_site, settle) => {
 *     settle(idle, undefined)
 *     return () => {}
 *   },
 *   unsafeReturn: (_item, exit) => console.log("returned with", exit),
 *   invalidate: () => {},
 *   reportDefect: (what) => console.error(what)
 * }
 * const exits: Borrow.BorrowExits<string> = { done: "done", died: () => "died", interrupted: () => "interrupted" }
 * const borrow = new Borrow.CallbackBorrow(host, exits, undefined, (held) => {
 *   held?.return() // "returned with done"
 * }, Borrow.retriesOf(undefined), undefined).start()
 * console.log(borrow.state) // "returned"
 * ```
 * @since 0.1.0
 */
import type { Item } from "./state.js"

/** Where a borrow is: waiting for an item, holding one, or done one way or another. */
export type BorrowState = "waiting" | "held" | "returned" | "failed" | "cancelled"

/** What a callback borrow needs of its pool (an edition's shell); `X` is its exit, `C` its cause. */
export interface BorrowHost<A, X, C> {
  /** Waits for an item: `settle` gets it or the failure (maybe before this returns); returns a cancel. */
  unsafeBorrow(site: Error | undefined, settle: (item: Item<A> | undefined, failure: C | undefined) => void): () => void
  /** Gives `item` back with how its use ended; `used: false` does not count toward `maxUses`. */
  unsafeReturn(item: Item<A>, exit: X, used: boolean): void
  /** `item` is destroyed when it comes back. */
  invalidate(item: Item<A>): void
  /** Logs a defect of the kind's with the pool's name (never throws). */
  reportDefect(what: string, thrown: unknown): void
}

/** The exits a borrow returns its item with, in the edition's own type. */
export interface BorrowExits<X> {
  /** The use ended well (the default of `return()`). */
  readonly done: X
  /** The kind's callback threw `thrown`. */
  readonly died: (thrown: unknown) => X
  /** The borrower gave up while holding the item. */
  readonly interrupted: () => X
}

export class CallbackBorrow<A, K, X, C> {
  state: BorrowState = "waiting"
  /** The item's value, once one was handed (kept after the return, for the kind's bookkeeping). */
  value!: A
  /** The item held (`undefined` unless held). */
  protected heldItem: Item<A> | undefined = undefined
  private cancelWait: (() => void) | undefined = undefined
  private retriesLeft: number

  constructor(
    private readonly host: BorrowHost<A, X, C>,
    private readonly exits: BorrowExits<X>,
    private readonly site: Error | undefined,
    private readonly callback: (borrow: CallbackBorrow<A, K, X, C> | undefined, failure: C | undefined) => void,
    retries: number,
    readonly key: K
  ) {
    this.retriesLeft = retries
  }

  /** Starts waiting (the callback may run before this returns). */
  start(): this {
    this.state = "waiting"
    const cancel = this.host.unsafeBorrow(this.site, (item, failure) => this.settle(item, failure))
    if (this.state === "waiting") this.cancelWait = cancel
    return this
  }

  private settle(item: Item<A> | undefined, failure: C | undefined): void {
    this.cancelWait = undefined
    if (this.state !== "waiting") {
      // given up (cancel, abort) while the pool was handing an item over: back unused, unseen
      if (item !== undefined) this.host.unsafeReturn(item, this.exits.done, false)
      return
    }
    if (item === undefined) {
      this.state = "failed"
      this.tell(undefined, failure)
      return
    }
    this.heldItem = item
    this.value = item.value
    this.state = "held"
    this.tell(this, undefined)
  }

  /**
   * Runs the kind's callback. One that throws (a bug of the kind's) must not throw into the pool:
   * it runs inside another borrower's return, the pool's timer or its close, whose work would stop
   * half done. It is logged as a defect; an item it was handed goes back, not reused (what was
   * done with it is unknown).
   */
  private tell(borrow: CallbackBorrow<A, K, X, C> | undefined, failure: C | undefined): void {
    try {
      this.callback(borrow, failure)
    } catch (thrown) {
      if (this.state === "held") {
        this.invalidate()
        this.return(this.exits.died(thrown))
      }
      this.host.reportDefect("a borrow's callback threw", thrown)
    }
  }

  /**
   * Gives the item back once (later calls do nothing), with how its use ended (for `recycle`);
   * `used: false` — nothing was sent on it — does not count toward `maxUses`.
   */
  return(exit: X = this.exits.done, options?: { readonly used?: boolean | undefined }): void {
    if (this.state !== "held") return
    const item = this.heldItem!
    this.heldItem = undefined
    this.state = "returned"
    this.host.unsafeReturn(item, exit, options?.used !== false)
  }

  /** Gives up: stops waiting, or returns the item held (its use interrupted). Idempotent. */
  cancel(): void {
    if (this.state === "waiting") {
      this.state = "cancelled"
      const cancel = this.cancelWait
      this.cancelWait = undefined
      cancel?.()
    } else if (this.state === "held") {
      this.return(this.exits.interrupted())
    }
  }

  /**
   * Ends a wait with `failure` (the kind's own deadline or fail-fast signal): the callback runs
   * with it, state "failed". Does nothing unless waiting.
   */
  abort(failure: C): void {
    if (this.state !== "waiting") return
    this.state = "failed"
    const cancel = this.cancelWait
    this.cancelWait = undefined
    cancel?.()
    this.tell(undefined, failure)
  }

  /** The held item is destroyed when it comes back instead of reused. */
  invalidate(): void {
    if (this.heldItem !== undefined) this.host.invalidate(this.heldItem)
  }

  /**
   * Nothing of the request left on the item held (it was found broken, or refused the request
   * before running it): return it (not counted as a use) and wait for another, once per `retries`.
   * `false` when no retry is left (the borrow still holds its item) or nothing is held.
   */
  retry(): boolean {
    if (this.state !== "held" || this.retriesLeft <= 0) return false
    this.retriesLeft--
    const item = this.heldItem!
    this.heldItem = undefined
    // nothing left on it: not a use
    this.host.unsafeReturn(item, this.exits.done, false)
    this.start()
    return true
  }
}

/**
 * `retries` as `unsafeBorrow` takes it: a whole number ≥ 0, or `Infinity` (default 1). Anything
 * else (NaN, a negative or fractional number, a string, an unknown option) is the kind's bug,
 * thrown before anything is borrowed — a NaN budget would otherwise never run out.
 */
export const retriesOf = (options: { readonly retries?: number | undefined } | undefined): number => {
  if (options === undefined) return 1
  for (const key in options) {
    if (key !== "retries") throw new TypeError(`unsafeBorrow: unknown option "${key}"`)
  }
  const retries: unknown = options.retries
  if (retries === undefined) return 1
  if (typeof retries !== "number" || !(retries === Infinity || (Number.isInteger(retries) && retries >= 0))) {
    throw new TypeError(`unsafeBorrow: retries must be a whole number ≥ 0 or Infinity, got ${String(retries)}`)
  }
  return retries
}
