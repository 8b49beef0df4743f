/**
 * A borrow without a fiber, as an object (`Pool.Borrow`): for kinds whose I/O is callback-based.
 * It is the one place that knows whether the borrower is still waiting, holds an item, or is
 * done — so a kind never keeps its own `waiting` flag, `returned` flag or cancel function, and
 * "send once more on another item, if nothing left" is `retry()`, written once.
 *
 * @internal
 */
import type * as State from "@effect-pool/engine/state"
import type * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { handleOf, type ItemHandleImpl } from "./handle.js"
import type { PoolShell } from "./shell.js"

/** Where a borrow is: waiting for an item, holding one, or done one way or another. */
export type BorrowState = "waiting" | "held" | "returned" | "failed" | "cancelled"

export class CallbackBorrow<A, K = never> {
  state: BorrowState = "waiting"
  /** The item's value, once one was handed (kept after the return, for the kind's bookkeeping). */
  value!: A
  private item: State.Item<A> | undefined = undefined
  private cancelWait: (() => void) | undefined = undefined
  private retriesLeft: number

  constructor(
    private readonly shell: PoolShell<A, unknown>,
    private readonly site: Error | undefined,
    private readonly callback: (
      borrow: CallbackBorrow<A, K> | undefined,
      failure: Cause.Cause<unknown> | undefined
    ) => void,
    retries: number,
    readonly key: K
  ) {
    this.retriesLeft = retries
  }

  /** Starts waiting (the callback may run before this returns). */
  start(): this {
    this.state = "waiting"
    const cancel = this.shell.unsafeBorrow(this.site, (item, failure) => this.settle(item, failure))
    if (this.state === "waiting") this.cancelWait = cancel
    return this
  }

  private settle(item: State.Item<A> | undefined, failure: Cause.Cause<unknown> | undefined): void {
    this.cancelWait = undefined
    if (this.state !== "waiting") {
      // given up (cancel, abort) while the pool was handing an item over: back unused, unseen
      if (item !== undefined) this.shell.unsafeReturn(item, Exit.void, false)
      return
    }
    if (item === undefined) {
      this.state = "failed"
      this.tell(undefined, failure)
      return
    }
    this.item = item
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
  private tell(borrow: CallbackBorrow<A, K> | undefined, failure: Cause.Cause<unknown> | undefined): void {
    try {
      this.callback(borrow, failure)
    } catch (thrown) {
      if (this.state === "held") {
        this.invalidate()
        this.return(Exit.die(thrown))
      }
      this.shell.reportDefect("a borrow's callback threw", thrown)
    }
  }

  /** The held item's handle (`undefined` unless held). */
  get handle(): ItemHandleImpl<A> | undefined {
    return this.item === undefined ? undefined : handleOf(this.item)
  }

  /**
   * Gives the item back once (later calls do nothing), with how its use ended (for `recycle`);
   * `used: false` — nothing was sent on it — does not count toward `maxUses`.
   */
  return(exit: Exit.Exit<unknown, unknown> = Exit.void, options?: { readonly used?: boolean | undefined }): void {
    if (this.state !== "held") return
    const item = this.item!
    this.item = undefined
    this.state = "returned"
    this.shell.unsafeReturn(item, exit, options?.used !== false)
  }

  /** Gives up: stops waiting, or returns the item held (its use interrupted). Idempotent. */
  cancel(): void {
    if (this.state === "waiting") {
      this.state = "cancelled"
      const cancel = this.cancelWait
      this.cancelWait = undefined
      cancel?.()
    } else if (this.state === "held") {
      this.return(Exit.interrupt(FiberId.none))
    }
  }

  /**
   * Ends a wait with `failure` (the kind's own deadline or fail-fast signal): the callback runs
   * with it, state "failed". Does nothing unless waiting.
   */
  abort(failure: Cause.Cause<unknown>): void {
    if (this.state !== "waiting") return
    this.state = "failed"
    const cancel = this.cancelWait
    this.cancelWait = undefined
    cancel?.()
    this.tell(undefined, failure)
  }

  /** The held item is destroyed when it comes back instead of reused. */
  invalidate(): void {
    if (this.item !== undefined) this.shell.invalidate(this.item)
  }

  /**
   * Nothing of the request left on the item held (it was found broken, or refused the request
   * before running it): return it (not counted as a use) and wait for another, once per `retries`. `false` when no
   * retry is left (the borrow still holds its item) or nothing is held.
   */
  retry(): boolean {
    if (this.state !== "held" || this.retriesLeft <= 0) return false
    this.retriesLeft--
    const item = this.item!
    this.item = undefined
    // nothing left on it: not a use
    this.shell.unsafeReturn(item, Exit.void, false)
    this.start()
    return true
  }
}

/**
 * `retries` as `unsafeBorrow` takes it: a whole number ≥ 0, or `Infinity`. Anything else (NaN, a
 * negative or fractional number, a string, an unknown option) is the kind's bug, thrown before
 * anything is borrowed — a NaN budget would otherwise never run out.
 */
const retriesOf = (options: { readonly retries?: number | undefined } | undefined): number => {
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

/** Starts a callback borrow of `shell` (the one body of `Pool.unsafeBorrow` and `KeyedPool.unsafeBorrow`). */
export const startBorrow = <A, K, B>(
  shell: PoolShell<A, any>,
  callback: (borrow: B | undefined, failure: Cause.Cause<any> | undefined) => void,
  options: { readonly retries?: number | undefined } | undefined,
  key: K
): B & CallbackBorrow<A, K> =>
  new CallbackBorrow<A, K>(
    shell as PoolShell<A, unknown>,
    shell.borrowSite(),
    callback as unknown as (borrow: CallbackBorrow<A, K> | undefined, failure: Cause.Cause<unknown> | undefined) => void,
    retriesOf(options),
    key
  ).start() as B & CallbackBorrow<A, K>
