/**
 * The pool's functional core: its state and every decision about it, as plain synchronous
 * functions. No Effect runtime in here: each transition takes the state (and the current time
 * where it matters), updates it, and returns the commands the shell must carry out — start a
 * creation, hand an item to a waiter, reject a waiter, destroy an item.
 *
 * Transitions update the state record in place instead of returning a copy: the borrow/return
 * fast path runs a few hundred thousand times a second and must not allocate a new state each
 * time. They remain deterministic functions of (state, inputs), which is what the unit and
 * property tests rely on.
 *
 * For edition shells (the Effect 3 and Effect 4 cores) and their tests, not for applications.
 *
 * @since 0.1.0
 */
import type { PoolConfig } from "./config.js"

/** One pooled item and its bookkeeping. */
export interface Item<A> {
  readonly id: number
  readonly value: A
  readonly createdAt: number
  /** When max lifetime ends this item (jitter applied); `Infinity` without a lifetime. */
  readonly expiresAt: number
  /** Opaque to the core: the shell keeps the item's scope here. */
  readonly handle: unknown
  /** Last time the item went idle (or was created). */
  idleSince: number
  /** When the item went from 0 to 1 borrowers. */
  borrowedAt: number
  borrowers: number
  uses: number
  invalid: boolean
  /** `true` once a Destroy command has been issued for it. */
  destroyed: boolean
  /** Taken by the health checker; not lent meanwhile. */
  checking: boolean
  /** Failed its last health check (with `onFailure: "suspend"`): kept, not lent, checked again. */
  suspended: boolean
  /** Held out of rotation by its kind (`ItemHandle.suspend()`): kept, not lent, until `unhold`. */
  held: boolean
  /** Where it was borrowed (leak detection only). */
  site: Error | undefined
  leakReported: boolean
}

/** A borrower waiting for an item. The shell sets `notify`. */
export interface Waiter<A> {
  readonly enqueuedAt: number
  /** Set when the core hands this waiter an item. */
  item: Item<A> | undefined
  /** Set when the core rejects this waiter. */
  error: unknown
  settled: boolean
  notify: ((waiter: Waiter<A>) => void) | undefined
}

/**
 * What the shell must do after a transition. `Reclaim` and `Wake` concern a shared `Budget`:
 * the shell carries them out after the transition, so that no other pool's transition (nor its
 * commands) runs inside this pool's.
 */
export type Command<A> =
  | { readonly _tag: "Create" }
  | { readonly _tag: "Hand"; readonly waiter: Waiter<A>; readonly item: Item<A> }
  | { readonly _tag: "Reject"; readonly waiter: Waiter<A>; readonly error: unknown }
  | { readonly _tag: "Destroy"; readonly item: Item<A> }
  /**
   * Have another pool sharing the budget give up an idle item: for this pool, refused a unit
   * (`starved`), or because one of this pool's items went idle while the budget wants idle
   * items back (a parked pool, or more idle items than the shared cap).
   */
  | { readonly _tag: "Reclaim"; readonly starved: boolean }
  /** A budget unit came back: let the pools parked on the budget retry. */
  | { readonly _tag: "Wake" }

/**
 * A limit shared by several pools (KeyedPool's `maxTotal`). A pool reserves a unit before it
 * creates an item and frees it when the item's destruction (or a failed creation) is over.
 * The first three methods are bookkeeping, called inside a transition; the last two run other
 * pools' transitions and are called by the shell for the `Reclaim` and `Wake` commands.
 */
export interface Budget {
  /** Try to take one unit for `pool`; on `false` the pool is parked until units free up. */
  tryReserve(pool: PoolState<any>): boolean
  /** Give one unit back (parked pools retry on the `Wake` command that follows). */
  free(): void
  /** An item of `pool` went idle: should an idle item be reclaimed (a `Reclaim` command)? */
  idled(pool: PoolState<any>): boolean
  /** Carries out `Reclaim` for `pool`: another pool above its `min` destroys its oldest idle item. */
  reclaim(pool: PoolState<any>, starved: boolean): void
  /** Carries out `Wake`: pools parked on the budget retry their creations. */
  wake(): void
}

export const CREATE: Command<never> = { _tag: "Create" }
export const RECLAIM_STARVED: Command<never> = { _tag: "Reclaim", starved: true }
export const RECLAIM_IDLE: Command<never> = { _tag: "Reclaim", starved: false }
export const WAKE: Command<never> = { _tag: "Wake" }
export const NONE: ReadonlyArray<Command<never>> = []

/** The whole state of one pool. */
export class PoolState<A> {
  /** Live items: created and not yet destroyed (idle or borrowed). */
  readonly items = new Set<Item<A>>()
  /** Items with no borrower, lendable, in reuse order (the end is the most recently returned). */
  idle: Array<Item<A>> = []
  /** Waiting borrowers, oldest first. */
  waiters: Array<Waiter<A>> = []
  /** Creations under way (including their retries). */
  creating = 0
  /** Destructions under way: they still count against `max`. */
  destroying = 0
  /** Active borrows, summed over all items. */
  borrowers = 0
  closed = false
  /** The most recent creation failure, kept as the cause of timeouts. */
  lastError: unknown = undefined
  hasLastError = false
  /** Items suspended by a failed health check, and the failure that suspended the latest one. */
  suspended = 0
  lastCheckError: unknown = undefined
  /** Parked on the shared budget (KeyedPool). */
  starved = false
  nextId = 0
  // counters
  created = 0
  destroyed = 0
  timeouts = 0
  failures = 0
  borrows = 0
  invalidated = 0

  constructor(
    public config: PoolConfig,
    readonly budget?: Budget
  ) {}

  get size(): number {
    return this.items.size
  }
}

// ---------------------------------------------------------------------------
// borrowing

/** Can this item take one more borrower right now? */
const lendable = <A>(state: PoolState<A>, item: Item<A>, now: number): boolean =>
  !item.invalid && !item.checking && !item.suspended && !item.held && item.borrowers < state.config.concurrency &&
  item.expiresAt > now

/**
 * The fast path: take a lendable item if there is one, else `undefined`. Expired items met on
 * the way are destroyed (their Destroy commands are pushed to `out`).
 */
export const take = <A>(state: PoolState<A>, now: number, out: Array<Command<A>>): Item<A> | undefined => {
  if (state.closed || state.waiters.length > 0) return undefined
  const item = state.config.concurrency === 1 ? takeIdle(state, now, out) : takeLeastLoaded(state, now, out)
  if (item !== undefined) {
    lend(state, item, now)
    if (state.config.targetUtilization < 1) demand(state, out)
  }
  return item
}

const takeIdle = <A>(state: PoolState<A>, now: number, out: Array<Command<A>>): Item<A> | undefined => {
  const idle = state.idle
  const lifo = state.config.order === "lifo"
  while (idle.length > 0) {
    const item = (lifo ? idle.pop() : idle.shift())!
    if (item.expiresAt > now) return item
    out.push(destroy(state, item))
  }
  return undefined
}

const takeLeastLoaded = <A>(state: PoolState<A>, now: number, out: Array<Command<A>>): Item<A> | undefined => {
  let best: Item<A> | undefined
  for (const item of state.items) {
    if (!item.checking && item.expiresAt <= now && item.borrowers === 0) {
      removeIdle(state, item)
      out.push(destroy(state, item))
      continue
    }
    if (lendable(state, item, now) && (best === undefined || item.borrowers < best.borrowers)) best = item
  }
  if (best !== undefined && best.borrowers === 0) removeIdle(state, best)
  return best
}

const lend = <A>(state: PoolState<A>, item: Item<A>, now: number): void => {
  if (item.borrowers === 0) {
    // a new borrow streak: its own leak report
    item.borrowedAt = now
    item.leakReported = false
  }
  item.borrowers++
  state.borrowers++
  state.borrows++
}

/** Outcome of a borrow that found no lendable item. */
export type WaitOutcome = "wait" | "closed" | "full"

/**
 * Queue a waiter (after `take` returned nothing) and start the creations it calls for.
 * Returns "closed" or "full" instead when it may not wait. `maxWaiters` bounds the waiters
 * beyond what the items being created will serve (as piscina's `maxQueue` counts the tasks
 * beyond what running or starting threads take): a borrower that a creation under way — or
 * one started for it now — will serve is not queued, it is early.
 */
export const enqueue = <A>(state: PoolState<A>, waiter: Waiter<A>, out: Array<Command<A>>): WaitOutcome => {
  if (state.closed) return "closed"
  state.waiters.push(waiter)
  demand(state, out)
  if (uncoveredWaiters(state) > state.config.maxWaiters) {
    // demand started nothing for it (else it would be covered): nothing to undo but the push
    state.waiters.pop()
    return "full"
  }
  return "wait"
}

/**
 * Waiters that no creation under way will serve, nor one that an item being destroyed makes
 * room for (at `max`, its destruction starts a creation): the ones `maxWaiters` counts.
 */
export const uncoveredWaiters = <A>(state: PoolState<A>): number =>
  Math.max(0, state.waiters.length - (state.creating + state.destroying) * state.config.concurrency)

/** A waiter gave up (timeout, interruption): forget it; if it was handed an item, return that. */
export const cancel = <A>(state: PoolState<A>, waiter: Waiter<A>, now: number, out: Array<Command<A>>): void => {
  if (waiter.item !== undefined) {
    const item = waiter.item
    waiter.item = undefined
    release(state, item, now, out)
    return
  }
  const index = state.waiters.indexOf(waiter)
  if (index >= 0) state.waiters.splice(index, 1)
  waiter.settled = true
}

/**
 * Rejects, with `error()`, the waiters whose `acquireTimeout` has passed. All waiters share one
 * timeout and the queue is FIFO, so they are the ones at the front.
 */
export const expire = <A>(state: PoolState<A>, now: number, error: () => unknown, out: Array<Command<A>>): void => {
  const timeout = state.config.acquireTimeout
  let cause: unknown
  while (state.waiters.length > 0 && state.waiters[0].enqueuedAt + timeout <= now) {
    const waiter = state.waiters.shift()!
    cause ??= error()
    waiter.error = cause
    waiter.settled = true
    state.timeouts++
    out.push({ _tag: "Reject", waiter, error: cause })
  }
}

/** When the oldest waiter times out (`Infinity` with no waiter or no timeout). */
export const nextExpiry = <A>(state: PoolState<A>): number =>
  state.waiters.length === 0 ? Infinity : state.waiters[0].enqueuedAt + state.config.acquireTimeout

// ---------------------------------------------------------------------------
// returning

/**
 * A borrower is done with `item`. The item goes to the oldest waiter, back to idle, or — when it
 * is invalid, expired, used up, over `max` or the pool is closed — to destruction. `used: false`:
 * the borrower never used it (its `maxUses` count stays).
 */
export const release = <A>(state: PoolState<A>, item: Item<A>, now: number, out: Array<Command<A>>, used = true): void => {
  if (item.destroyed) return
  item.borrowers--
  state.borrowers--
  // a borrow that never used the item (nothing was sent on it) does not count toward maxUses
  if (used) item.uses++
  const config = state.config
  if (
    item.invalid || state.closed || item.uses >= config.maxUses || item.expiresAt <= now ||
    state.items.size + state.destroying > config.max
  ) {
    // retired: no new borrower; destroyed once the last one is gone
    item.invalid = true
    if (item.borrowers === 0 && !item.checking) {
      out.push(destroy(state, item))
      demand(state, out)
    }
    return
  }
  if (item.checking || item.suspended || item.held) {
    if (item.borrowers === 0) item.idleSince = now
    return
  }
  offer(state, item, now, out)
}

/** A lendable item is free again: serve waiters first, then keep it idle. */
const offer = <A>(state: PoolState<A>, item: Item<A>, now: number, out: Array<Command<A>>): void => {
  const concurrency = state.config.concurrency
  while (state.waiters.length > 0 && item.borrowers < concurrency) {
    handTo(state, state.waiters.shift()!, item, now, out)
  }
  if (item.borrowers === 0) {
    if (state.idle.length >= state.config.maxIdle) {
      // enough idle items already: this one goes (Go's MaxIdleConnsPerHost)
      out.push(destroy(state, item))
      return
    }
    item.idleSince = now
    state.idle.push(item)
    if (state.budget?.idled(state) === true) out.push(RECLAIM_IDLE)
  }
}

const handTo = <A>(state: PoolState<A>, waiter: Waiter<A>, item: Item<A>, now: number, out: Array<Command<A>>) => {
  lend(state, item, now)
  waiter.item = item
  waiter.settled = true
  out.push({ _tag: "Hand", waiter, item })
}

/** Mark an item so that it is destroyed instead of reused; destroys it now when idle. */
export const invalidate = <A>(state: PoolState<A>, item: Item<A>, out: Array<Command<A>>): void => {
  if (item.destroyed || item.invalid) return
  item.invalid = true
  state.invalidated++
  if (item.borrowers === 0 && !item.checking) {
    removeIdle(state, item)
    out.push(destroy(state, item))
    demand(state, out)
  }
}

// ---------------------------------------------------------------------------
// creation

/** A creation finished with `item` (already counted in `creating`). */
export const created = <A>(state: PoolState<A>, item: Item<A>, now: number, out: Array<Command<A>>): void => {
  state.creating--
  state.created++
  state.hasLastError = false
  state.lastError = undefined
  state.items.add(item)
  if (state.closed) {
    out.push(destroy(state, item))
    return
  }
  offer(state, item, now, out)
  demand(state, out)
}

/** Makes the record of a new item; the shell calls `created` with it. */
export const newItem = <A>(state: PoolState<A>, value: A, handle: unknown, now: number, jitter: number): Item<A> => {
  const lifetime = state.config.maxLifetime
  return {
    id: state.nextId++,
    value,
    handle,
    createdAt: now,
    expiresAt: lifetime === Infinity ? Infinity : now + lifetime * (1 - state.config.lifetimeJitter * jitter),
    idleSince: now,
    borrowedAt: 0,
    borrowers: 0,
    uses: 0,
    invalid: false,
    destroyed: false,
    checking: false,
    suspended: false,
    held: false,
    site: undefined,
    leakReported: false
  }
}

/**
 * A creation attempt failed. Returns `true` when the attempt should be retried (someone still
 * needs the item: a waiter it was started for, or `min`), `false` when the creation is dropped.
 * With `failWaitersOnCreateError`, every waiter is rejected with `cause` first.
 */
export const createFailed = <A>(state: PoolState<A>, error: unknown, cause: unknown, out: Array<Command<A>>): boolean => {
  state.failures++
  state.lastError = error
  state.hasLastError = true
  if (state.config.failWaitersOnCreateError) {
    for (const waiter of state.waiters.splice(0)) {
      waiter.error = cause
      waiter.settled = true
      out.push({ _tag: "Reject", waiter, error: cause })
    }
  }
  if (state.closed || !stillNeeded(state)) {
    endCreation(state, out)
    return false
  }
  return true
}

/**
 * The retry schedule of a failing creation is exhausted: the error goes to the oldest waiter
 * (fail fast) and the creation ends. Other waiters keep their own creations.
 */
export const createGaveUp = <A>(state: PoolState<A>, error: unknown, out: Array<Command<A>>): void => {
  endCreation(state, out)
  const waiter = state.waiters.shift()
  if (waiter !== undefined) {
    waiter.error = error
    waiter.settled = true
    out.push({ _tag: "Reject", waiter, error })
  }
  demand(state, out)
}

/** A creation was interrupted (the pool is closing): it ends without an item. */
export const creationAborted = <A>(state: PoolState<A>, out: Array<Command<A>>): void => endCreation(state, out)

const endCreation = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  state.creating--
  freeUnit(state, out)
}

/** Gives a budget unit back; parked pools retry after the transition (`Wake`). */
const freeUnit = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  if (state.budget === undefined) return
  state.budget.free()
  out.push(WAKE)
}

/** Does the pool still need one more item than it has plus is creating (minus this one)? */
const stillNeeded = <A>(state: PoolState<A>): boolean => {
  const others = state.creating - 1
  const config = state.config
  const uncovered = state.waiters.length - others * config.concurrency
  return uncovered > 0 || state.items.size + others < config.min
}

// ---------------------------------------------------------------------------
// destruction

const destroy = <A>(state: PoolState<A>, item: Item<A>): Command<A> => {
  if (item.suspended) {
    item.suspended = false
    state.suspended--
  }
  item.destroyed = true
  state.items.delete(item)
  state.destroying++
  return { _tag: "Destroy", item }
}

/** A destruction is over: the slot it held frees up. */
export const destroyed = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  state.destroying--
  state.destroyed++
  freeUnit(state, out)
  demand(state, out)
}

const removeIdle = <A>(state: PoolState<A>, item: Item<A>): void => {
  const index = state.idle.indexOf(item)
  if (index >= 0) state.idle.splice(index, 1)
}

// ---------------------------------------------------------------------------
// demand: how many creations to start

/**
 * Starts the creations the pool needs now: for waiters not covered by creations under way, to
 * reach `min`, and one ahead when utilization passes `targetUtilization`; never past `max`
 * (counting items being destroyed) nor past a shared budget.
 */
export const demand = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  if (state.closed) return
  const config = state.config
  const concurrency = config.concurrency
  const occupied = state.items.size + state.creating
  let wanted = Math.max(
    Math.ceil((state.waiters.length - state.creating * concurrency) / concurrency),
    config.min - occupied
  )
  if (wanted <= 0 && config.targetUtilization < 1 && occupied > 0) {
    const utilization = (state.borrowers + state.waiters.length) / (occupied * concurrency)
    if (utilization > config.targetUtilization) wanted = 1
  }
  wanted = Math.min(wanted, config.max - occupied - state.destroying)
  for (let i = 0; i < wanted; i++) {
    if (state.budget !== undefined && !state.budget.tryReserve(state)) {
      state.starved = true
      out.push(RECLAIM_STARVED)
      return
    }
    state.creating++
    out.push(CREATE)
  }
}

// ---------------------------------------------------------------------------
// housekeeping

/**
 * Evicts idle items past `idleTimeout` (keeping `min`) or past their lifetime, then tops up.
 */
export const evict = <A>(state: PoolState<A>, now: number, out: Array<Command<A>>): void => {
  if (state.closed) return
  const config = state.config
  const idle = state.idle
  // oldest idle first, so that the items kept are the most recently used
  const byAge = idle.length > 1 ? [...idle].sort((a, b) => a.idleSince - b.idleSince) : idle
  for (const item of byAge) {
    const expired = item.expiresAt <= now
    const idleTooLong = now - item.idleSince >= config.idleTimeout && state.items.size > config.min
    if (expired || idleTooLong) {
      removeIdle(state, item)
      out.push(destroy(state, item))
    }
  }
  demand(state, out)
}

/**
 * The next instant at which `evict` could evict an item (`Infinity` when none). Only idle items
 * can be evicted: an item that is not idle (borrowed, under a health check, suspended) counts
 * by its lifetime end only while that is ahead — past it, it is destroyed when it comes back,
 * and counting it (or its idle end) would wake the housekeeper every millisecond in a loop.
 */
export const nextEviction = <A>(state: PoolState<A>, now: number): number => {
  const config = state.config
  let next = Infinity
  for (const item of state.items) if (item.expiresAt > now && item.expiresAt < next) next = item.expiresAt
  const canIdleOut = config.idleTimeout !== Infinity && state.items.size > config.min
  for (const item of state.idle) {
    if (item.expiresAt < next) next = item.expiresAt
    if (canIdleOut && item.idleSince + config.idleTimeout < next) next = item.idleSince + config.idleTimeout
  }
  return next
}

/** The longest the housekeeper sleeps, whatever the options: 30 s. */
export const HOUSEKEEPING_MAX_MILLIS = 30_000

/**
 * How long the housekeeper sleeps after a pass at `now` (ms, at least 1): until the next
 * eviction is due, and never longer than the shortest period that could make one due without
 * another transition (idle timeout, shortest jittered lifetime, leak threshold) nor than 30 s.
 */
export const nextHousekeeping = <A>(state: PoolState<A>, now: number): number => {
  const config = state.config
  const cap = Math.max(
    1,
    Math.min(
      HOUSEKEEPING_MAX_MILLIS,
      config.idleTimeout,
      config.maxLifetime * (1 - config.lifetimeJitter),
      config.leakDetectionThreshold
    )
  )
  return Math.max(1, Math.min(nextEviction(state, now) - now, cap))
}

/**
 * The items borrowed for `leakDetectionThreshold` or longer and not reported yet: each is
 * marked reported (once per borrow streak: lending an idle item clears the mark) and returned
 * for the shell to log.
 */
export const leaks = <A>(state: PoolState<A>, now: number): Array<Item<A>> => {
  const threshold = state.config.leakDetectionThreshold
  const found: Array<Item<A>> = []
  if (threshold === Infinity) return found
  for (const item of state.items) {
    if (item.borrowers > 0 && !item.leakReported && now - item.borrowedAt >= threshold) {
      item.leakReported = true
      found.push(item)
    }
  }
  return found
}

/** What a borrower that hit `acquireTimeout` was waiting for. */
export type TimeoutPhase = "create" | "wait" | "suspended"

/** The phase of an acquire timeout and its cause, when there is one to report. */
export interface TimeoutCause {
  readonly phase: TimeoutPhase
  /** Present when there is a cause: the last creation failure, or the health check that suspended items. */
  readonly cause?: unknown
}

/**
 * Why a borrower timed out: at capacity with nothing failing to create, it waited for a return
 * ("wait") or for suspended items to pass a check ("suspended"); otherwise for a creation
 * ("create"). The cause is the last creation failure, else the failure that suspended items.
 */
export const timeoutCause = <A>(state: PoolState<A>): TimeoutCause => {
  const atCapacity = state.items.size + state.destroying >= state.config.max && state.creating === 0
  const phase: TimeoutPhase = atCapacity && !state.hasLastError ? (state.suspended > 0 ? "suspended" : "wait") : "create"
  if (state.hasLastError) return { phase, cause: state.lastError }
  if (state.suspended > 0) return { phase, cause: state.lastCheckError }
  return { phase }
}

/** The oldest idle item (for reclaiming a shared budget), or `undefined`. */
export const oldestIdle = <A>(state: PoolState<A>): Item<A> | undefined => {
  let oldest: Item<A> | undefined
  for (const item of state.idle) if (oldest === undefined || item.idleSince < oldest.idleSince) oldest = item
  return oldest
}

/**
 * Gives up an idle item so that another pool sharing the budget can create one: only from a
 * pool above its `min`, so pools never take items back and forth.
 */
export const reclaim = <A>(state: PoolState<A>, out: Array<Command<A>>): boolean => {
  if (state.closed || state.items.size <= state.config.min) return false
  const item = oldestIdle(state)
  if (item === undefined) return false
  removeIdle(state, item)
  out.push(destroy(state, item))
  return true
}

/** Destroys every idle item (then tops up `min`). */
export const evictIdle = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  for (const item of state.idle) out.push(destroy(state, item))
  state.idle = []
  demand(state, out)
}

/** Nothing alive, nothing under way, nobody waiting: the pool may be dropped. */
export const unused = <A>(state: PoolState<A>): boolean =>
  state.items.size === 0 && state.creating === 0 && state.destroying === 0 && state.waiters.length === 0

/** Takes idle items out for a health check; they are not lent until `checked`. */
export const checkOut = <A>(state: PoolState<A>): Array<Item<A>> => {
  if (state.closed) return []
  const items: Array<Item<A>> = []
  for (const item of state.items) {
    if (item.checking || item.invalid || item.held) continue
    if (state.config.concurrency === 1 && item.borrowers > 0) continue
    item.checking = true
    if (item.borrowers === 0) removeIdle(state, item)
    items.push(item)
  }
  return items
}

/**
 * A health check of `item` is over. A failed item is destroyed — or, with `suspend` (this failure
 * suspends), kept out of rotation (not lent, still alive, checked again next time) until a check
 * passes: what a gRPC client does with a connection whose service reports NOT_SERVING.
 */
export const checked = <A>(
  state: PoolState<A>,
  item: Item<A>,
  healthy: boolean,
  now: number,
  out: Array<Command<A>>,
  suspend = false,
  failure: unknown = undefined
) => {
  item.checking = false
  if (item.destroyed) return
  if (!healthy && suspend && !item.invalid && !state.closed) {
    if (!item.suspended) {
      item.suspended = true
      state.suspended++
    }
    state.lastCheckError = failure
    return
  }
  if (item.suspended) {
    item.suspended = false
    state.suspended--
  }
  if (!healthy && !item.invalid) {
    item.invalid = true
    state.invalidated++
  }
  if (item.invalid || state.closed) {
    if (item.borrowers === 0) {
      out.push(destroy(state, item))
      demand(state, out)
    }
    return
  }
  // held by its kind while it was checked: it stays out until unhold
  if (item.held) return
  // a check is not a use: the item keeps its idle age
  const idleSince = item.idleSince
  offer(state, item, now, out)
  if (item.borrowers === 0) item.idleSince = idleSince
}

/**
 * The item's kind holds it out of rotation (`ItemHandle.suspend()`: e.g. its server's role is
 * in doubt): it is not lent — an idle one leaves the idle list, a borrowed one does not go back
 * to it when returned — and stays alive until `unhold`. Independent of a health check's
 * suspension; an invalid or destroyed item is left as it is.
 */
export const hold = <A>(state: PoolState<A>, item: Item<A>): void => {
  if (item.destroyed || item.invalid || item.held || state.closed) return
  item.held = true
  if (item.borrowers === 0) removeIdle(state, item)
}

/**
 * The kind lets a held item back into rotation: idle again (with its idle age) or to a waiter —
 * unless it is borrowed (it comes back when returned), under a health check or suspended by one
 * (they decide), or the pool closed meanwhile (destroyed).
 */
export const unhold = <A>(state: PoolState<A>, item: Item<A>, now: number, out: Array<Command<A>>): void => {
  if (!item.held) return
  item.held = false
  if (item.destroyed || item.invalid || item.checking || item.suspended) return
  if (state.closed) {
    if (item.borrowers === 0) out.push(destroy(state, item))
    return
  }
  const idleSince = item.idleSince
  offer(state, item, now, out)
  if (item.borrowers === 0) item.idleSince = idleSince
}

// ---------------------------------------------------------------------------
// size and closing

/** Changes `min`/`max` at run time: surplus idle items go, new demand is met. */
export const resize = <A>(state: PoolState<A>, config: PoolConfig, out: Array<Command<A>>): void => {
  state.config = config
  let surplus = state.items.size + state.destroying - config.max
  while (surplus > 0 && state.idle.length > 0) {
    out.push(destroy(state, state.idle.shift()!))
    surplus--
  }
  demand(state, out)
}

/**
 * Closes the pool: no new borrows, waiters rejected with `error`, idle items destroyed; borrowed
 * items are destroyed when they come back (see `release`).
 */
export const close = <A>(state: PoolState<A>, error: unknown, out: Array<Command<A>>): void => {
  if (state.closed) return
  state.closed = true
  for (const waiter of state.waiters) {
    waiter.error = error
    waiter.settled = true
    out.push({ _tag: "Reject", waiter, error })
  }
  state.waiters = []
  for (const item of state.idle) out.push(destroy(state, item))
  state.idle = []
  // held by their kind and not borrowed: as idle as the others
  for (const item of [...state.items]) {
    if (item.held && item.borrowers === 0 && !item.checking && !item.destroyed) out.push(destroy(state, item))
  }
}

/** After the shutdown timeout: destroy what borrowers still hold. */
export const forceDestroy = <A>(state: PoolState<A>, out: Array<Command<A>>): void => {
  for (const item of state.items) {
    state.borrowers -= item.borrowers
    item.borrowers = 0
    out.push(destroy(state, item))
  }
}
