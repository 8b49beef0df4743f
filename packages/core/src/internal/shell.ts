/**
 * The Effect shell around one pool's state: it carries out the core's commands (forks creations
 * and destructions, wakes waiters), runs the borrow and return paths, and the background work
 * (housekeeping, health checks, metrics). Every clock read goes through the pool's `Clock`, so
 * `TestClock` drives all timing in tests.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Random from "effect/Random"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { PoolClosedError, PoolQueueFullError, PoolTimeoutError } from "../PoolError.js"
import type { PoolConfig } from "./config.js"
import { handleOf, ItemHandleImpl, ValueIndex } from "./handle.js"
import { millisOf } from "./clock.js"
import { PoolMetrics } from "./metrics.js"
import * as State from "@effect-pool/engine/state"

/** The effectful parts of a pool's options, with their environment already erased. */
export interface Lifecycle<A, E> {
  /** Makes one item; `handle` is the item's own (`Pool.ItemHandle`), made before it. */
  readonly acquire: (handle: ItemHandleImpl<A>) => Effect.Effect<A, E, Scope.Scope>
  readonly validate: ((item: A) => Effect.Effect<unknown, unknown>) | undefined
  readonly recycle: ((item: A, exit: Exit.Exit<unknown, unknown>) => Effect.Effect<unknown, unknown> | undefined) | undefined
  readonly createRetry: Schedule.Schedule<unknown, unknown>
  readonly spans: boolean
}

/** The default creation retry: exponential from 10 ms, capped at 1 s, jittered, forever. */
export const defaultCreateRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("10 millis", 2).pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.jittered
)

const USE_SAMPLE_MASK = 7

const noop = (): void => {}

/** One pool's shell. `PoolImpl` (public) and each key of a `KeyedPool` own one. */
export class PoolShell<A, E> {
  readonly state: State.PoolState<A>
  readonly metrics: PoolMetrics
  private readonly runFork: <X, Y>(effect: Effect.Effect<X, Y>) => Fiber.RuntimeFiber<X, Y>
  private readonly creations = new Set<Fiber.RuntimeFiber<void, never>>()
  private readonly destructions = new Set<Fiber.RuntimeFiber<void, never>>()
  /** Completed when the pool holds `min` items (or failed with why it cannot): `awaitMin`. */
  private warmup: Deferred.Deferred<void, unknown> | undefined
  /** Creation attempts still running, also those given up on (timed out, interrupted). */
  private readonly attempts = new Set<Fiber.RuntimeFiber<unknown, unknown>>()
  private drainSignal: Deferred.Deferred<void> | undefined
  private releases = 0
  private readonly scratch: Array<State.Command<A>> = []
  /** Called after an item's destruction ends (KeyedPool uses it for idle keys). */
  onDestroyed: (() => void) | undefined

  constructor(
    config: PoolConfig,
    readonly lifecycle: Lifecycle<A, E>,
    readonly clock: Clock.Clock,
    runtime: Runtime.Runtime<never>,
    labels: Record<string, string>,
    budget?: State.Budget,
    /** Live items by value (`Pool.invalidate`): a keyed pool's keys share one. */
    private readonly index: ValueIndex<A> = new ValueIndex<A>()
  ) {
    this.state = new State.PoolState<A>(config, budget)
    this.now = millisOf(clock)
    this.metrics = new PoolMetrics(labels)
    this.runFork = Runtime.runFork(runtime) as any
  }

  get config(): PoolConfig {
    return this.state.config
  }

  /** The pool's time in milliseconds (real time read once per synchronous stretch; see `clock.ts`). */
  readonly now: () => number

  // -------------------------------------------------------------------------
  // commands

  /**
   * A kind's callback threw inside the pool (a bug of the kind's): logged as a defect with the
   * pool's name, never thrown into the pool's own work — the rest of that work goes on.
   */
  reportDefect(what: string, thrown: unknown): void {
    this.runFork(
      Effect.logError(`pool "${this.config.name}": ${what}`, Cause.die(thrown)).pipe(Effect.annotateLogs("pool", this.config.name))
    )
  }

  /** Carries out the commands a transition returned. */
  run(out: ReadonlyArray<State.Command<A>>): void {
    for (let i = 0; i < out.length; i++) {
      const command = out[i]
      switch (command._tag) {
        case "Create": {
          this.track(this.creations, this.runFork(this.createOne))
          break
        }
        case "Hand":
        case "Reject": {
          command.waiter.notify?.(command.waiter)
          break
        }
        case "Destroy": {
          this.destroyItem(command.item)
          break
        }
        case "Reclaim": {
          this.state.budget?.reclaim(this.state, command.starved)
          break
        }
        case "Wake": {
          this.state.budget?.wake()
          break
        }
      }
    }
  }

  /** Runs `transition` with a scratch command list and carries out what it returned. */
  apply(transition: (out: Array<State.Command<A>>) => void): void {
    const out = this.scratch
    transition(out)
    if (out.length > 0) this.run(out.splice(0))
  }

  demand(): void {
    this.apply((out) => State.demand(this.state, out))
  }

  /** Keeps `fiber` in `set` while it runs (`runFork` may already have run it to its end). */
  private track<X, Y>(set: Set<Fiber.RuntimeFiber<X, Y>>, fiber: Fiber.RuntimeFiber<X, Y>): void {
    if (fiber.unsafePoll() !== null) return
    set.add(fiber)
    fiber.addObserver(() => set.delete(fiber))
  }

  // -------------------------------------------------------------------------
  // creation

  /**
   * One creation attempt in the item's scope, run in a fiber of its own so that `createTimeout`
   * and close take effect at once even when `acquire` is uninterruptible (as
   * `Effect.acquireRelease`'s acquire is): the attempt then ends in the background, and whatever
   * it made is released at once into the item scope, which is closed by then. The fiber stays in
   * `attempts` until it has ended, so that close can wait for it: a thread or socket still being
   * opened when the pool closes is gone when the close ends.
   */
  private readonly attempt = (handle: ItemHandleImpl<A>): Effect.Effect<A, unknown> => {
    let effect: Effect.Effect<A, unknown> = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.forkDaemon(restore(Scope.extend(Effect.suspend(() => this.lifecycle.acquire(handle)), handle.scope))), (fiber) => {
        this.track(this.attempts, fiber)
        return restore(Fiber.join(fiber)).pipe(Effect.onInterrupt(() => Fiber.interruptFork(fiber)))
      })
    )
    const timeout = this.config.createTimeout
    if (timeout !== Infinity) {
      effect = Effect.timeoutFail(effect, {
        duration: timeout,
        onTimeout: () =>
          new PoolTimeoutError({ pool: this.config.name, phase: "create", timeout: Duration.millis(timeout) })
      })
    }
    return Effect.withSpan(effect, "pool.create", { attributes: { "pool.name": this.config.name } })
  }

  /** One creation: attempts with retries until an item is made, nobody needs it, or retries end. */
  private readonly createOne: Effect.Effect<void> = Effect.uninterruptibleMask((restore) =>
    Effect.gen(this, function*() {
      const state = this.state
      const driver = yield* Schedule.driver(this.lifecycle.createRetry)
      while (true) {
        const scope = yield* Scope.make()
        const handle = new ItemHandleImpl<A>(this, scope)
        const started = this.now()
        let exit = yield* Effect.exit(restore(this.attempt(handle)))
        if (Exit.isSuccess(exit) && handle.early) {
          // it broke (its handle was invalidated) before it was even lent: a failed creation
          exit = Exit.fail(new Error(`pool "${this.config.name}": the item was invalidated while it was being created`))
        }
        if (Exit.isSuccess(exit)) {
          const jitter = yield* Random.next
          const now = this.now()
          this.metrics.createdIn(now - started)
          const item = State.newItem(state, exit.value, handle, now, jitter)
          handle.item = item
          this.index.add(item)
          this.apply((out) => State.created(state, item, now, out))
          if (this.warmup !== undefined && state.items.size >= this.config.min) Deferred.unsafeDone(this.warmup, Exit.void)
          return
        }
        yield* Scope.close(scope, exit)
        if (Cause.isInterruptedOnly(exit.cause)) {
          this.apply((out) => State.creationAborted(state, out))
          return
        }
        const error = Cause.squash(exit.cause)
        yield* Effect.logDebug("pool: creation failed", exit.cause).pipe(
          Effect.annotateLogs("pool", this.config.name)
        )
        let retry = false
        this.apply((out) => (retry = State.createFailed(state, error, exit.cause, out)))
        if (this.warmup !== undefined && this.config.failWaitersOnCreateError) {
          Deferred.unsafeDone(this.warmup, Exit.fail(error))
        }
        if (!retry) return
        const next = yield* Effect.exit(restore(driver.next(error)))
        if (Exit.isFailure(next)) {
          if (Cause.isInterruptedOnly(next.cause)) this.apply((out) => State.creationAborted(state, out))
          else {
            this.apply((out) => State.createGaveUp(state, exit.cause, out))
            if (this.warmup !== undefined) Deferred.unsafeDone(this.warmup, Exit.fail(error))
          }
          return
        }
      }
    })
  )

  /**
   * Waits until the pool holds `min` items. Fails with the creation error when creating one
   * fails for good (the first failure with `failWaitersOnCreateError`, else when `createRetry`
   * ends), or with `PoolTimeoutError` (phase "create", the last failure as cause) after
   * `acquireTimeout`.
   */
  awaitMin(timeoutMillis: number = this.config.acquireTimeout): Effect.Effect<void, unknown> {
    return Effect.suspend(() => {
      if (this.state.items.size >= this.config.min) return Effect.void
      const warmup = this.warmup ?? Deferred.unsafeMake<void, unknown>(FiberId.none)
      this.warmup = warmup
      const timeout = timeoutMillis
      const wait = timeout === Infinity
        ? Deferred.await(warmup)
        : Effect.timeoutFail(Deferred.await(warmup), { duration: timeout, onTimeout: () => this.timeoutError() })
      return Effect.ensuring(wait, Effect.sync(() => (this.warmup = undefined)))
    })
  }

  // -------------------------------------------------------------------------
  // destruction

  /**
   * Closes the item's scope in a fiber of its own. Bounded by `destroyTimeout`: a finalizer that
   * hangs is logged and left running on its own, so that neither the pool nor its close hangs
   * with it. Cheap on purpose — a server restart destroys every connection at once, while their
   * replacements connect: a close that ends at once (a socket destroyed) costs one fiber, one
   * that waits (a polite goodbye) one more, sleeping until `destroyTimeout`.
   */
  private destroyItem(item: State.Item<A>): void {
    const config = this.config
    this.index.remove(item)
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      this.apply((out) => State.destroyed(this.state, out))
      this.onDestroyed?.()
    }
    const closing = this.runFork(
      Effect.catchAllCause(Scope.close(handleOf(item).scope, Exit.void), (cause) =>
        Effect.logWarning("pool: destroying an item failed", cause).pipe(Effect.annotateLogs("pool", config.name)))
    )
    if (closing.unsafePoll() !== null) {
      finish()
      return
    }
    if (config.destroyTimeout === Infinity) {
      closing.addObserver(finish)
      this.track(this.destructions, closing)
      return
    }
    const timer = this.runFork(Effect.flatMap(
      Effect.sleep(config.destroyTimeout),
      () =>
        Effect.logWarning(
          `pool "${config.name}": destroying item ${item.id} took longer than destroyTimeout ` +
            `(${config.destroyTimeout} ms); it is left to finish on its own`
        )
    ))
    closing.addObserver(() => {
      finish()
      timer.unsafeInterruptAsFork(FiberId.none)
    })
    timer.addObserver(finish)
    // close waits for the timer: it ends when the item is closed or given up
    this.track(this.destructions, timer)
  }

  // -------------------------------------------------------------------------
  // borrowing

  /**
   * Where a borrow was written (leak detection only): taken when `Pool.use`/`Pool.get` is
   * called, so the stack shows the caller's code rather than the fiber runtime's.
   */
  borrowSite(): Error | undefined {
    return this.config.leakDetectionThreshold === Infinity ? undefined : new Error("borrowed here")
  }

  /** The fast path: a lendable item, synchronously, or `undefined`. */
  tryTake(site: Error | undefined): State.Item<A> | undefined {
    const state = this.state
    if (state.waiters.length > 0 || state.closed) return undefined
    const out = this.scratch
    const item = State.take(state, this.now(), out)
    if (out.length > 0) this.run(out.splice(0))
    if (item !== undefined && site !== undefined) item.site = site
    return item
  }

  /** Does this item need `validate` before it is lent? (Never for a brand-new item.) */
  needsValidation(item: State.Item<A>): boolean {
    return this.lifecycle.validate !== undefined && item.uses > 0 &&
      this.now() - item.idleSince >= this.config.validateAfterIdle
  }

  /**
   * Borrow: fast path when an item is lendable, else queue and wait (interruptibly, through
   * `restore`); validation failures get another item. Must run uninterruptibly.
   */
  borrow(
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
    site: Error | undefined
  ): Effect.Effect<State.Item<A>, unknown> {
    return this.borrowFrom(this.tryTake(site), restore, site)
  }

  /** `borrow` for the outcome of a `tryTake` already made. */
  borrowFrom(
    item: State.Item<A> | undefined,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
    site: Error | undefined
  ): Effect.Effect<State.Item<A>, unknown> {
    if (item === undefined) return this.waitFor(restore, site)
    if (this.needsValidation(item)) return this.validated(item, restore, site)
    return Effect.succeed(item)
  }

  private validated(
    item: State.Item<A>,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
    site: Error | undefined
  ): Effect.Effect<State.Item<A>, unknown> {
    // interruptible even when the borrower is not: a timeout must be able to stop it
    const check = Effect.timeoutFail(Effect.interruptible(this.lifecycle.validate!(item.value)), {
      duration: this.config.validateTimeout,
      onTimeout: () => new Cause.TimeoutException("validate timed out")
    })
    return Effect.flatMap(Effect.exit(restore(check)), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(item)
      this.apply((out) => {
        State.invalidate(this.state, item, out)
        State.release(this.state, item, this.now(), out)
      })
      if (Cause.isInterruptedOnly(exit.cause)) return exit as Exit.Exit<never>
      return Effect.suspend(() => this.borrow(restore, site))
    })
  }

  private waitFor(
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
    site: Error | undefined
  ): Effect.Effect<State.Item<A>, unknown> {
    const state = this.state
    const config = this.config
    const started = this.now()
    const waiter: State.Waiter<A> = { enqueuedAt: started, item: undefined, error: undefined, settled: false, notify: undefined }
    const out = this.scratch
    const outcome: State.WaitOutcome = State.enqueue(state, waiter, out)
    if (out.length > 0) this.run(out.splice(0))
    if (outcome === "closed") return Effect.fail(new PoolClosedError({ pool: config.name }))
    if (outcome === "full") return Effect.fail(new PoolQueueFullError({ pool: config.name, maxWaiters: config.maxWaiters }))
    this.startTimer()
    let wait: Effect.Effect<void> = Effect.async<void>((resume) => {
      if (waiter.settled) return resume(Effect.void)
      waiter.notify = () => resume(Effect.void)
    })
    if (this.lifecycle.spans) {
      wait = Effect.withSpan(wait, "pool.acquire", { attributes: { "pool.name": config.name } })
    }
    return Effect.matchCauseEffect(restore(wait), {
      onFailure: (cause) => {
        this.apply((out) => State.cancel(state, waiter, this.now(), out))
        return Effect.failCause(cause)
      },
      onSuccess: () => {
        const item = waiter.item
        if (item === undefined) return Effect.failCause(waiter.error as Cause.Cause<unknown>)
        waiter.item = undefined
        this.metrics.waited(this.now() - started)
        if (site !== undefined) item.site = site
        return Effect.succeed(item)
      }
    })
  }

  /**
   * Starts the waiters' timer unless it runs: one fiber for all waiters, sleeping until the
   * oldest one's deadline (deadlines follow queue order), ending when the queue is empty.
   */
  private startTimer(): void {
    if (this.timer !== undefined || this.config.acquireTimeout === Infinity) return
    const timer = this.runFork(this.timerLoop)
    if (timer.unsafePoll() === null) this.timer = timer
  }

  private timer: Fiber.RuntimeFiber<void, never> | undefined

  private readonly timerLoop: Effect.Effect<void> = Effect.suspend(() => {
    const now = this.now()
    this.apply((out) => State.expire(this.state, now, () => Cause.fail(this.timeoutError()), out))
    const next = State.nextExpiry(this.state)
    if (next === Infinity) {
      this.timer = undefined
      return Effect.void
    }
    return Effect.zipRight(Effect.sleep(next - now), this.timerLoop)
  })

  /**
   * Borrow without a fiber (for kind implementations whose I/O is callback-based): `callback`
   * gets the item — synchronously when one is idle, else from inside the return that frees it,
   * so the next request can be sent in the same tick — or the cause of the failure. Returns a
   * cancel function for a borrower that gives up while waiting. The item goes back with
   * `unsafeReturn`.
   */
  unsafeBorrow(
    site: Error | undefined,
    callback: (item: State.Item<A> | undefined, failure: Cause.Cause<unknown> | undefined) => void
  ): () => void {
    const item = this.tryTake(site)
    if (item !== undefined) {
      if (!this.needsValidation(item)) {
        callback(item, undefined)
        return noop
      }
      return this.borrowThroughFiber(item, site, callback)
    }
    const state = this.state
    const config = this.config
    const waiter: State.Waiter<A> = {
      enqueuedAt: this.now(),
      item: undefined,
      error: undefined,
      settled: false,
      notify: (w) => {
        const handed = w.item
        w.item = undefined
        if (handed !== undefined) {
          if (site !== undefined) handed.site = site
          this.metrics.waited(this.now() - w.enqueuedAt) // the slow path only: it waited
          callback(handed, undefined)
        } else {
          callback(undefined, w.error as Cause.Cause<unknown>)
        }
      }
    }
    const out = this.scratch
    const outcome = State.enqueue(state, waiter, out)
    if (out.length > 0) this.run(out.splice(0))
    if (outcome === "closed") {
      callback(undefined, Cause.fail(new PoolClosedError({ pool: config.name })))
      return noop
    }
    if (outcome === "full") {
      callback(undefined, Cause.fail(new PoolQueueFullError({ pool: config.name, maxWaiters: config.maxWaiters })))
      return noop
    }
    this.startTimer()
    return () => this.apply((out) => State.cancel(state, waiter, this.now(), out))
  }

  /** `unsafeBorrow` for an item that must be validated first: that takes a fiber. */
  private borrowThroughFiber(
    item: State.Item<A>,
    site: Error | undefined,
    callback: (item: State.Item<A> | undefined, failure: Cause.Cause<unknown> | undefined) => void
  ): () => void {
    let cancelled = false
    const fiber = this.runFork(Effect.uninterruptibleMask((restore) => this.borrowFrom(item, restore, site)))
    const settle = (exit: Exit.Exit<State.Item<A>, unknown>) => {
      if (Exit.isSuccess(exit)) {
        if (cancelled) this.releaseNow(exit.value)
        else callback(exit.value, undefined)
      } else if (!cancelled) {
        callback(undefined, exit.cause)
      }
    }
    const done = fiber.unsafePoll()
    if (done !== null) settle(done)
    else fiber.addObserver(settle)
    return () => {
      cancelled = true
      fiber.unsafeInterruptAsFork(FiberId.none)
    }
  }

  /** Returns an item borrowed with `unsafeBorrow`, through `recycle` when it has work to do. */
  unsafeReturn(item: State.Item<A>, exit: Exit.Exit<unknown, unknown>, used = true): void {
    const recycling = this.recycling(item, exit, used)
    if (recycling === undefined) this.releaseNow(item, used)
    else this.runFork(recycling)
  }

  /** The error of a borrower whose `acquireTimeout` fired: the last creation failure as cause. */
  timeoutError(): PoolTimeoutError {
    const config = this.config
    return new PoolTimeoutError({
      pool: config.name,
      timeout: Duration.millis(config.acquireTimeout),
      ...State.timeoutCause(this.state)
    })
  }

  // -------------------------------------------------------------------------
  // returning

  /** Return without recycling (synchronous); `used: false` does not count toward `maxUses`. */
  releaseNow(item: State.Item<A>, used = true): void {
    const state = this.state
    const now = this.now()
    if ((++this.releases & USE_SAMPLE_MASK) === 0 && item.borrowers === 1) this.metrics.used(now - item.borrowedAt)
    const out = this.scratch
    State.release(state, item, now, out, used)
    if (out.length > 0) this.run(out.splice(0))
    if (state.closed && state.borrowers === 0 && this.drainSignal !== undefined) {
      Deferred.unsafeDone(this.drainSignal, Exit.void)
    }
  }

  /**
   * Return through `recycle` when there is one: a failing (or timed-out) recycle evicts the
   * item. A recycle returning `undefined` (nothing to do) costs nothing more than a plain return.
   */
  release(item: State.Item<A>, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    return this.recycling(item, exit) ?? Effect.sync(() => this.releaseNow(item))
  }

  /**
   * The effect that recycles and returns `item`, or `undefined` when there is nothing to
   * recycle (the caller then returns it with `releaseNow`).
   */
  recycling(item: State.Item<A>, exit: Exit.Exit<unknown, unknown>, used = true): Effect.Effect<void> | undefined {
    const recycle = this.lifecycle.recycle
    const effect = recycle === undefined || item.destroyed ? undefined : recycle(item.value, exit)
    if (effect === undefined) return undefined
    const timeout = this.config.recycleTimeout
    // returns run uninterruptibly; the recycle itself must stay interruptible for its timeout
    const bounded = timeout === Infinity ? effect : Effect.timeoutFail(Effect.interruptible(effect), {
      duration: timeout,
      onTimeout: () => new Cause.TimeoutException("recycle timed out")
    })
    return Effect.flatMap(Effect.exit(bounded), (recycled) =>
      Effect.sync(() => {
        if (Exit.isFailure(recycled)) this.invalidate(item)
        this.releaseNow(item, used)
      }))
  }

  refreshMetrics(): void {
    this.metrics.refresh(this.state)
  }

  invalidate(item: State.Item<A>): void {
    this.apply((out) => State.invalidate(this.state, item, out))
  }

  /** Invalidates the live item holding `value`, if any (in whichever pool of the index holds it). */
  invalidateValue(value: A): void {
    this.index.invalidate(value)
  }

  /** Destroys every idle item now (then tops up `min`). */
  evictIdle(): void {
    this.apply((out) => State.evictIdle(this.state, out))
  }

  /** The item's kind holds it out of rotation (`ItemHandle.suspend()`). */
  hold(item: State.Item<A>): void {
    this.apply(() => State.hold(this.state, item))
  }

  /** The kind lets it back (`ItemHandle.resume()`). */
  unhold(item: State.Item<A>): void {
    this.apply((out) => State.unhold(this.state, item, this.now(), out))
  }

  resize(config: PoolConfig): void {
    this.apply((out) => State.resize(this.state, config, out))
  }

  // -------------------------------------------------------------------------
  // background work

  /** One housekeeping pass: evictions, min top-up, leak reports. Returns ms until the next. */
  housekeep(): Effect.Effect<number> {
    return Effect.suspend(() => {
      const state = this.state
      const config = this.config
      const now = this.now()
      this.apply((out) => State.evict(state, now, out))
      const next = State.nextHousekeeping(state, now)
      const leaks = State.leaks(state, now)
      if (leaks.length === 0) return Effect.succeed(next)
      return Effect.as(
        Effect.forEach(leaks, (item) =>
          Effect.logWarning(
            `pool "${config.name}": item ${item.id} borrowed for ${now - item.borrowedAt} ms, longer than ` +
              `leakDetectionThreshold (${config.leakDetectionThreshold} ms); borrowed at:\n${item.site?.stack ?? "?"}`
          ), { discard: true }),
        next
      )
    })
  }

  /** Checks every idle (and every suspended) item with `check` within `timeout` ms (none: `validateTimeout`); failures, defects and time-outs evict or suspend. */
  healthCheck(check: (item: A) => Effect.Effect<unknown, unknown>, suspends: (error: unknown) => boolean, timeout: number | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      const items = State.checkOut(this.state)
      return Effect.forEach(
        items,
        (item) =>
          Effect.onExit(
            Effect.timeoutFail(Effect.interruptible(check(item.value)), {
              duration: timeout ?? this.config.validateTimeout,
              onTimeout: () => new Cause.TimeoutException("health check timed out")
            }),
            (exit) =>
              Effect.sync(() => {
                const failure = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
                const suspend = failure !== undefined && suspends(failure)
                this.apply((out) => State.checked(this.state, item, Exit.isSuccess(exit), this.now(), out, suspend, failure))
              })
          // its outcome is recorded above: a defect (a check that threw) must not end the checks
          ).pipe(Effect.exit),
        { concurrency: "unbounded", discard: true }
      )
    })
  }

  // -------------------------------------------------------------------------
  // closing

  /**
   * Waits for `effect` at most `ms` during close, logging `warning` when it did not end in time.
   * A finalizer runs uninterruptibly: the wait is made interruptible for its timeout.
   */
  private waitAtMost(effect: Effect.Effect<unknown>, ms: number, warning: () => string): Effect.Effect<void> {
    return Effect.interruptible(effect).pipe(
      Effect.timeoutOption(ms),
      Effect.flatMap((ended) =>
        ended._tag === "Some" ? Effect.void : Effect.logWarning(`pool "${this.config.name}": ${warning()}`)
      )
    )
  }

  /**
   * Close: reject waiters, destroy idle items, give borrowers up to `shutdownTimeout` to return
   * theirs, then destroy everything left and wait until every destruction has finished.
   */
  readonly shutdown: Effect.Effect<void> = Effect.suspend(() => {
    const state = this.state
    if (state.closed) return Effect.void
    const closedError = Cause.fail(new PoolClosedError({ pool: this.config.name }))
    this.drainSignal = Deferred.unsafeMake<void>(FiberId.none)
    this.apply((out) => State.close(state, closedError, out))
    const drain = state.borrowers === 0 ? Effect.void : this.waitAtMost(
      Deferred.await(this.drainSignal),
      this.config.shutdownTimeout,
      () => `${state.borrowers} borrowed item(s) not returned within shutdownTimeout; destroying them`
    )
    return drain.pipe(
      Effect.zipRight(Effect.sync(() => this.apply((out) => State.forceDestroy(state, out)))),
      Effect.zipRight(Effect.suspend(() => Fiber.interruptAll(this.timer ? [...this.creations, this.timer] : this.creations))),
      // creations given up on end in the background: wait for them (and so for the release of
      // what they made), as long as a destruction may take
      Effect.zipRight(Effect.suspend(() =>
        this.attempts.size === 0 ? Effect.void : this.waitAtMost(
          Fiber.awaitAll([...this.attempts]),
          this.config.destroyTimeout,
          () => `${this.attempts.size} creation(s) still running destroyTimeout after close; not waiting for them`
        )
      )),
      Effect.zipRight(Effect.whileLoop({
        while: () => this.destructions.size > 0,
        body: () => Fiber.awaitAll([...this.destructions]),
        step: () => {}
      })),
      Effect.ensuring(Effect.sync(() => this.refreshMetrics()))
    )
  })
}
