/**
 * `Pool`: a bounded, fair, self-healing pool of items that are expensive to create
 * (connections, sockets, workers, channels).
 *
 * - the pool lives in a `Scope` (use `Layer.scoped` to make it a service);
 * - each item lives in its own scope: closing it is how an item is destroyed;
 * - borrow with `Pool.get` inside `Effect.scoped` (returned when the scope closes) or with
 *   `Pool.use(pool, f)` around one effect (the fast path).
 *
 * @since 4.0.0
 */
import * as Config from "effect/Config"
import type * as Context from "effect/Context"
import type * as Result from "effect/Result"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import type { Snapshot } from "@effect-pool/engine/stats"
import * as borrow from "./internal/borrow.js"
import * as config from "./internal/config.js"
import { statsOf } from "./internal/stats.js"
import * as internal from "./internal/pool.js"
import { startBorrow } from "./internal/callbackBorrow.js"
import type { PoolShell } from "./internal/shell.js"
import type { PoolClosedError, PoolConfigError, PoolQueueFullError, PoolTimeoutError } from "./PoolError.js"

/**
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 *
 * declare const u: unknown
 * const isPool = typeof u === "object" && u !== null && Pool.TypeId in u
 * ```
 * @since 4.0.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@effect-pool/core/Pool")

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 *
 * const id: Pool.TypeId = Pool.TypeId
 * ```
 * @since 4.0.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A pool of `A`s whose creation may fail with `E`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const pool: Pool.Pool<{ id: number }> = yield* Pool.make({ acquire: Effect.succeed({ id: 1 }), max: 4 })
 *   return yield* Pool.use(pool, (conn) => Effect.succeed(conn.id))
 * }).pipe(Effect.scoped)
 * ```
 * @since 4.0.0
 * @category models
 */
export interface Pool<in out A, in out E = never> extends Pipeable {
  readonly [TypeId]: {
    readonly _A: (_: A) => A
    readonly _E: (_: E) => E
  }
  /** The validated `name` option. */
  readonly name: string
}

/**
 * What a borrow can fail with, besides the creation error `E`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: Pool.Pool<string>
 * const handled = Pool.use(pool, Effect.succeed).pipe(
 *   Effect.catchTags({ PoolTimeoutError: () => Effect.succeed("busy"), PoolQueueFullError: () => Effect.succeed("shed") })
 * )
 * ```
 * @since 4.0.0
 * @category errors
 */
export type BorrowError = PoolTimeoutError | PoolClosedError | PoolQueueFullError

/**
 * Options of `Pool.make`. Every field but `acquire` is optional; defaults in brackets.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect, Schedule } from "effect"
 *
 * const options: Pool.Options<{ ping: () => boolean }, Error, never> = {
 *   acquire: Effect.sync(() => ({ ping: () => true })),
 *   name: "conns",
 *   min: 2,
 *   max: 10,
 *   acquireTimeout: "5 seconds",
 *   idleTimeout: "1 minute",
 *   maxLifetime: "30 minutes",
 *   validate: (conn) => (conn.ping() ? Effect.void : Effect.fail("dead")),
 *   validateAfterIdle: "500 millis",
 *   healthCheck: { check: (conn) => Effect.void, schedule: Schedule.spaced("30 seconds"), timeout: "2 seconds" }
 * }
 * ```
 * @since 4.0.0
 * @category models
 */
export interface Options<A, E, R> {
  /**
   * Creates one item. It runs in the item's own scope: finalizers it adds (e.g. with
   * `Effect.acquireRelease`) run when the item is destroyed. As a function it receives the
   * item's `ItemHandle` (for kind implementations: the resource can invalidate itself from its
   * own callbacks, and read its borrower count).
   */
  readonly acquire: Effect.Effect<A, E, Scope.Scope | R> | ((item: ItemHandle) => Effect.Effect<A, E, Scope.Scope | R>)
  /** Label of logs, spans and metrics. ["pool"] */
  readonly name?: string | undefined
  /** Items kept alive even when idle; created at start and topped up after evictions. [0] */
  readonly min?: number | undefined
  /** Most items alive at once, counting those being created or destroyed. [10] */
  readonly max?: number | undefined
  /** Borrowers one item serves at once (1 = exclusive, like a DB connection). [1] */
  readonly concurrency?: number | undefined
  /** With `concurrency` > 1: create another item once this fraction of capacity is in use. [1] */
  readonly targetUtilization?: number | undefined
  /** Longest a borrower waits, for a returned item or a new one, before `PoolTimeoutError`. [30 s] */
  readonly acquireTimeout?: Duration.Input | undefined
  /** Longest one creation attempt may take; a timed-out attempt counts as failed. [30 s] */
  readonly createTimeout?: Duration.Input | undefined
  /** Idle items beyond `min` are destroyed after this long unused. [10 min] */
  readonly idleTimeout?: Duration.Input | undefined
  /** Items are destroyed (when idle, or when returned) after this long alive. [Infinity] */
  readonly maxLifetime?: Duration.Input | undefined
  /** Each item's lifetime is shortened by a random fraction up to this, so they do not expire together. [0.1] */
  readonly maxLifetimeJitter?: number | undefined
  /** Items are destroyed after this many borrows. [Infinity] */
  readonly maxUses?: number | undefined
  /** Most borrowers waiting at once; more fail at once with `PoolQueueFullError`. [Infinity] */
  readonly maxWaiters?: number | undefined
  /** Most idle items kept; an item returned beyond this is destroyed (Go's MaxIdleConnsPerHost). At least `min`. [Infinity] */
  readonly maxIdle?: number | undefined
  /** Which idle item is lent next: the most ("lifo") or least ("fifo") recently returned. ["lifo"] */
  readonly order?: "lifo" | "fifo" | undefined
  /** Checks an idle item before lending it; on failure it is destroyed and another is lent. */
  readonly validate?: ((item: A) => Effect.Effect<unknown, unknown, R>) | undefined
  /** Validate only items idle at least this long (a new item is never validated). [0] */
  readonly validateAfterIdle?: Duration.Input | undefined
  /** Longest `validate` or a health check may take before it counts as failed. [5 s] */
  readonly validateTimeout?: Duration.Input | undefined
  /**
   * Runs when an item comes back, with how the borrow ended; a failure destroys the item.
   * Return `undefined` when the item is fine as it is: the return then costs nothing extra
   * (no effect run, no timeout armed) — keep the common case cheap.
   */
  readonly recycle?:
    | ((item: A, exit: Exit.Exit<unknown, unknown>) => Effect.Effect<unknown, unknown, R> | undefined)
    | undefined
  /** Longest `recycle` may take before it counts as failed. [5 s] */
  readonly recycleTimeout?: Duration.Input | undefined
  /**
   * Checks idle items in the background on `schedule` [every 30 s], each check within `timeout`
   * [`validateTimeout`]. `onFailure`: `"evict"` [default] destroys an item whose check fails;
   * `"suspend"` keeps it out of rotation — alive, not lent, checked again on the schedule — until
   * a check passes (a service that says "not now" rather than a connection that is broken, e.g.
   * gRPC health NOT_SERVING); a function decides per failure (its argument: the check's error, or
   * a `TimeoutError` after `timeout`). Every kind takes the same `{ schedule, timeout }`
   * (its check is its own). [off]
   */
  readonly healthCheck?: HealthCheck<A, R> | undefined
  /**
   * How a failed creation is retried while someone still needs the item (its input is the
   * error). When it ends, the oldest waiter fails with the creation error itself.
   * [exponential from 10 ms, capped at 1 s, jittered, forever: waiters fail at `acquireTimeout`
   * with the last failure as cause]
   */
  readonly createRetry?: Schedule.Schedule<unknown, E | PoolTimeoutError, unknown, R> | undefined
  /** Longest close waits for borrowed items to come back before destroying them. [10 s] */
  readonly shutdownTimeout?: Duration.Input | undefined
  /** Longest an item's destruction (its scope's finalizers) is waited for; past it, it is logged and left to finish. [10 s] */
  readonly destroyTimeout?: Duration.Input | undefined
  /** Log a warning (with the borrow site) for an item held longer than this. [off] */
  readonly leakDetectionThreshold?: Duration.Input | undefined
  /** Add a `pool.acquire` span around waits for an item (`pool.create` is always on). [false] */
  readonly spans?: boolean | undefined
  /**
   * A failed creation attempt fails every waiting borrower at once with its error, instead of
   * letting them wait for a retry: for items whose creation fails the same way every time (a
   * worker whose module does not load). Retries then go on only while `min` needs the item. [false]
   */
  readonly failWaitersOnCreateError?: boolean | undefined
}

/**
 * A snapshot of a pool's state and counters.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: Pool.Pool<unknown>
 * const busy = Effect.map(Pool.stats(pool), (s: Pool.PoolStats) => s.borrowed / s.max)
 * ```
 * @since 4.0.0
 * @category models
 */
export interface PoolStats extends Snapshot {}

const variance = { _A: (_: any) => _, _E: (_: any) => _ }

class PoolImpl<A, E> implements Pool<A, E> {
  readonly [TypeId] = variance
  readonly name: string
  constructor(readonly shell: PoolShell<A, E>) {
    this.name = shell.config.name
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
}

const shellOf = <A, E>(self: Pool<A, E>): PoolShell<A, E> => (self as PoolImpl<A, E>).shell

/**
 * Makes a pool in the current scope; closing the scope closes the pool (waiters fail with
 * `PoolClosedError`, borrowed items are destroyed when returned or at `shutdownTimeout`).
 * Bad options fail with `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const pool = yield* Pool.make({
 *     acquire: Effect.acquireRelease(Effect.sync(() => ({ open: true })), (c) => Effect.sync(() => (c.open = false))),
 *     min: 1,
 *     max: 5
 *   })
 *   yield* Pool.use(pool, (conn) => Effect.log(conn.open))
 * }).pipe(Effect.scoped)
 * ```
 * @since 4.0.0
 * @category constructors
 */
export const make = <A, E = never, R = never>(
  options: Options<A, E, R>
): Effect.Effect<Pool<A, E>, PoolConfigError, Scope.Scope | R> =>
  Effect.map(internal.makeShell(options), (shell) => new PoolImpl(shell))

/**
 * Makes a `Layer` providing a pool under `tag`: the one-liner for a pool service.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Context, Effect } from "effect"
 *
 * class Conns extends Context.Service<Conns, Pool.Pool<{ id: number }>>()("Conns") {}
 *
 * const ConnsLive = Pool.layer(Conns, { acquire: Effect.succeed({ id: 1 }), max: 8 })
 * // same as: Layer.effect(Conns, Pool.make({ ... }))
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layer = <I, A, E = never, R = never>(
  tag: Context.Key<I, Pool<A, E>>,
  options: Options<A, E, R>
): Layer.Layer<I, PoolConfigError, Exclude<R, Scope.Scope>> => Layer.effect(tag, make(options))

/**
 * The options `layerConfig` can read from `Config`: everything but the effectful ones.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 *
 * const sizing: Pool.ConfigOptions = { min: 2, max: 20, idleTimeout: "1 minute" }
 * ```
 * @since 4.0.0
 * @category models
 */
export type ConfigOptions = Omit<Options<unknown, unknown, unknown>, keyof LifecycleOptions<unknown, unknown, unknown>>

/**
 * The options that take effects or callbacks (they stay in code: `layerConfig` reads the rest
 * from `Config`).
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const lifecycle: Pool.LifecycleOptions<{ id: number }, never, never> = { acquire: Effect.succeed({ id: 1 }) }
 * ```
 * @since 4.0.0
 * @category models
 */
export type LifecycleOptions<A, E, R> = Pick<Options<A, E, R>, "acquire" | "validate" | "recycle" | "healthCheck" | "createRetry">

/**
 * When and how long a background health check runs: the part of `healthCheck` that core and
 * every kind spell the same (a kind's own check replaces `check`; gRPC adds `service`).
 *
 * @example
 * ```ts
 * import type { Pool } from "@effect-pool/core"
 * import { Schedule } from "effect"
 *
 * const timing: Pool.HealthCheckTiming = { schedule: Schedule.spaced("10 seconds"), timeout: "2 seconds" }
 * ```
 * @since 4.0.0
 * @category models
 */
export interface HealthCheckTiming<R = never> {
  /** When checks run. [every 30 s; gRPC: 10 s] */
  readonly schedule?: Schedule.Schedule<unknown, unknown, unknown, R> | undefined
  /** Longest one check may take; past it the check fails with a `TimeoutError`. Not 0; Infinity = no limit. [`validateTimeout`, 5 s] */
  readonly timeout?: Duration.Input | undefined
}

/**
 * A pool's `healthCheck`: {@link HealthCheckTiming} plus the check and what a failure does.
 *
 * @example
 * ```ts
 * import type { Pool } from "@effect-pool/core"
 * import { Effect, Schedule } from "effect"
 *
 * const health: Pool.HealthCheck<{ ping: () => boolean }> = {
 *   check: (conn) => (conn.ping() ? Effect.void : Effect.fail("no pong")),
 *   schedule: Schedule.spaced("30 seconds"),
 *   timeout: "1 second",
 *   onFailure: "evict"
 * }
 * ```
 * @since 4.0.0
 * @category models
 */
export interface HealthCheck<A, R = never> extends HealthCheckTiming<R> {
  readonly check: (item: A) => Effect.Effect<unknown, unknown, R>
  readonly onFailure?: "evict" | "suspend" | ((error: unknown) => "evict" | "suspend") | undefined
}

/**
 * `layer` with the pool's settings read from `Config` (the lifecycle callbacks stay in code).
 * A missing or malformed setting fails the layer with a `ConfigError`, a bad value with
 * `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Config, Context, Effect } from "effect"
 *
 * class Conns extends Context.Service<Conns, Pool.Pool<{ id: number }>>()("Conns") {}
 *
 * const ConnsLive = Pool.layerConfig(Conns, { acquire: Effect.succeed({ id: 1 }) }, {
 *   max: Config.Int("POOL_MAX").pipe(Config.withDefault(10)),
 *   idleTimeout: Config.Duration("POOL_IDLE_TIMEOUT").pipe(Config.withDefault("1 minute"))
 * })
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layerConfig = <I, A, E = never, R = never>(
  tag: Context.Key<I, Pool<A, E>>,
  lifecycle: LifecycleOptions<A, E, R>,
  config: Config.Wrap<ConfigOptions>
): Layer.Layer<I, PoolConfigError | Config.ConfigError, Exclude<R, Scope.Scope>> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), (settings) => layer(tag, { ...settings, ...lifecycle })))

/**
 * Borrows an item until the enclosing `Scope` closes. Waiting is interruptible; a borrower
 * interrupted or timed out while waiting loses nothing and leaks nothing.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const twoQueries = (pool: Pool.Pool<{ query: (q: string) => string }>) =>
 *   Effect.scoped(
 *     Effect.gen(function*() {
 *       const conn = yield* Pool.get(pool)
 *       return [conn.query("a"), conn.query("b")]
 *     })
 *   )
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const get = <A, E>(self: Pool<A, E>): Effect.Effect<A, E | BorrowError, Scope.Scope> =>
  borrow.get(shellOf(self)) as Effect.Effect<A, E | BorrowError, Scope.Scope>

/**
 * Borrows an item around one effect — the fast path, no `Scope` involved. The item returns when
 * `f`'s effect ends, however it ends.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: Pool.Pool<{ query: (q: string) => number }>
 * const count = Pool.use(pool, (conn) => Effect.sync(() => conn.query("select count(*)")))
 * // or data-last: pool.pipe(Pool.use((conn) => ...))
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const use: {
  <A, X, Y, Z>(f: (item: A) => Effect.Effect<X, Y, Z>): <E>(self: Pool<A, E>) => Effect.Effect<X, Y | E | BorrowError, Z>
  <A, E, X, Y, Z>(self: Pool<A, E>, f: (item: A) => Effect.Effect<X, Y, Z>): Effect.Effect<X, Y | E | BorrowError, Z>
} = dual(
  2,
  <A, E, X, Y, Z>(self: Pool<A, E>, f: (item: A) => Effect.Effect<X, Y, Z>) =>
    borrow.use(shellOf(self), f) as Effect.Effect<X, Y | E | BorrowError, Z>
)

/**
 * Marks a borrowed item so that it is destroyed when returned instead of reused (or destroys it
 * now if it is idle). Use it when you know an item is broken.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: Pool.Pool<{ broken: boolean }>
 * const program = Pool.use(pool, (conn) => (conn.broken ? Pool.invalidate(pool, conn) : Effect.void))
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const invalidate: {
  <A>(item: A): <E>(self: Pool<A, E>) => Effect.Effect<void>
  <A, E>(self: Pool<A, E>, item: A): Effect.Effect<void>
} = dual(2, <A, E>(self: Pool<A, E>, value: A) =>
  Effect.sync(() => {
    shellOf(self).invalidateValue(value)
  }))

/**
 * A snapshot of the pool's state and counters (also refreshes its metrics).
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: Pool.Pool<unknown>
 * const report = Effect.flatMap(Pool.stats(pool), (s) => Effect.log(`${s.borrowed}/${s.size} in use, ${s.waiting} waiting`))
 * ```
 * @since 4.0.0
 * @category observability
 */
export const stats = <A, E>(self: Pool<A, E>): Effect.Effect<PoolStats> =>
  Effect.sync(() => {
    const shell = shellOf(self)
    shell.refreshMetrics()
    return statsOf(shell)
  })

/**
 * Changes `min` and/or `max` at run time. Growing starts creations for waiters and `min`;
 * shrinking destroys surplus idle items now and surplus borrowed ones when they come back.
 * `size` is checked when the effect runs, like `make`'s options: an invalid size, a `null`
 * entry, a key other than `min`/`max`, or an argument that is not an object (`null`, a number)
 * fails with `PoolConfigError` naming the option — never a throw — and changes nothing.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 *
 * declare const pool: Pool.Pool<unknown>
 * const grow = Pool.resize(pool, { max: 50 })
 * const shrink = pool.pipe(Pool.resize({ min: 0, max: 5 }))
 * ```
 * @since 4.0.0
 * @category sizing
 */
export const resize: {
  (size: { readonly min?: number | undefined; readonly max?: number | undefined }): <A, E>(self: Pool<A, E>) => Effect.Effect<void, PoolConfigError>
  <A, E>(self: Pool<A, E>, size: { readonly min?: number | undefined; readonly max?: number | undefined }): Effect.Effect<void, PoolConfigError>
} = dual(2, <A, E>(self: Pool<A, E>, size: { readonly min?: number | undefined; readonly max?: number | undefined }) => {
  const shell = shellOf(self)
  // read and checked when run: against the size the pool has then
  return Effect.suspend(() =>
    Effect.flatMap(internal.resizedConfig(shell.config, size), (config) => Effect.sync(() => shell.resize(config)))
  )
})

/**
 * What a borrower holds: the item's value.
 *
 * @example
 * ```ts
 * import type { Pool } from "@effect-pool/core"
 *
 * const valueOf = <A>(lease: Pool.Lease<A>): A => lease.value
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface Lease<A> {
  readonly value: A
}

/**
 * One pooled item as its kind sees it: given to `acquire` (as a function) before the item
 * exists, so that the resource can act on its own pool from its own callbacks — a socket's
 * `close` event calls `invalidate()`, a thread's `exit` too — with no pool reference to pass
 * around and no Effect to run. The handle is the item's identity: no lookup by value.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 * import { connect } from "node:net"
 *
 * const sockets = Pool.make({
 *   acquire: (item: Pool.ItemHandle) =>
 *     Effect.acquireRelease(
 *       Effect.sync(() => {
 *         const socket = connect(5432, "127.0.0.1")
 *         socket.on("close", () => item.invalidate()) // destroyed instead of lent again
 *         return socket
 *       }),
 *       (socket) => Effect.sync(() => socket.destroy())
 *     ),
 *   max: 4
 * })
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface ItemHandle {
  /** The item's number within its pool (`-1` while it is being created). */
  readonly id: number
  /** Borrowers holding it now (the core's own count: kinds keep no copy). */
  readonly borrowers: number
  /** Returns counted toward `maxUses` so far (the core's own count; `return(exit, { used: false })` and `retry()` are not counted). */
  readonly uses: number
  /** When it last went idle or was created, in the pool's `Clock` ms (`NaN` while created). */
  readonly idleSince: number
  /** It was invalidated, or destroyed: it is not lent again. */
  readonly invalidated: boolean
  /**
   * Do not lend it again: destroyed now when idle, else when its last borrower returns it.
   * Safe at any time, from any callback (before the item exists: its creation fails).
   */
  invalidate(): void
  /** Destroys every idle item of this item's pool (a server restart seen on one connection). */
  evictIdle(): void
  /**
   * Keeps it out of rotation until `resume()`: not lent (idle: taken out now; borrowed: not lent
   * again when returned), still alive — while its kind finds out whether it is still fit (pg: a
   * read-only signal being confirmed). `invalidate()` still destroys it. Independent of a health
   * check's `"suspend"`; before the item exists, nothing.
   */
  suspend(): void
  /** Back into rotation after `suspend()` (idle, or to a waiter; a borrowed one when returned). */
  resume(): void
}

/**
 * One borrow through `unsafeBorrow`, as an object: it knows whether it is still waiting, holds
 * an item, or is done, so kind code keeps no flags of its own.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const pool: Pool.Pool<{ send: (done: (sent: boolean) => void) => void }>
 * const borrow = Pool.unsafeBorrow(pool, (held, failure) => {
 *   if (held === undefined) return console.error(failure)
 *   held.value.send((sent) => {
 *     if (!sent && held.retry()) return // nothing left: once more, on another item
 *     held.return(Exit.void)
 *   })
 * })
 * // the caller gave up: stops waiting, or returns the item held
 * borrow.cancel()
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface Borrow<A> extends Lease<A> {
  /** "waiting" → "held" → "returned"; or "failed" (the callback got the cause), "cancelled". */
  readonly state: "waiting" | "held" | "returned" | "failed" | "cancelled"
  /** The item's value once one was handed (still readable after the return). */
  readonly value: A
  /** The held item's handle; `undefined` unless `state` is "held". */
  readonly handle: ItemHandle | undefined
  /**
   * Gives the item back, with how its use ended (for `recycle`). Only the first call counts.
   * `{ used: false }`: nothing was sent on it (a request refused before it left), so the return
   * does not count toward `maxUses`.
   */
  return(exit?: Exit.Exit<unknown, unknown>, options?: ReturnOptions): void
  /** Stops waiting, or returns the item held as interrupted. Idempotent. */
  cancel(): void
  /**
   * Ends a wait with `failure` — the kind's own deadline, or a signal that the wait is hopeless
   * (gRPC's fail-fast): the callback runs with it and `state` is "failed". Does nothing unless
   * `state` is "waiting" (an item handed over at that moment goes back unused).
   */
  abort(failure: Cause.Cause<unknown>): void
  /** The held item is destroyed when returned, not reused (its connection broke, …). */
  invalidate(): void
  /**
   * Nothing of the request left the item (found broken, refused before running): return it
   * (not counted as a use) and wait for another; the callback runs again. At most `retries` times per borrow (the
   * option of `unsafeBorrow`, [1]); `false` when none is left (the item is still held).
   */
  retry(): boolean
}

/**
 * Options of `Borrow.return`.
 *
 * @example
 * ```ts
 * import type { Pool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const held: Pool.Borrow<{ send: () => boolean }>
 * const sent = held.value.send()
 * held.return(Exit.void, { used: sent }) // a request that never left does not use up the item
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface ReturnOptions {
  /** The borrower used the item [true]; `false` does not count toward `maxUses`. */
  readonly used?: boolean | undefined
}

/**
 * Options of `unsafeBorrow`.
 *
 * @example
 * ```ts
 * import type { Pool } from "@effect-pool/core"
 *
 * const options: Pool.BorrowOptions = { retries: 2 }
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface BorrowOptions {
  /**
   * How many times `retry()` may take another item: a whole number ≥ 0 or `Infinity` [1].
   * Anything else, or an unknown key, throws a `TypeError` before anything is borrowed.
   */
  readonly retries?: number | undefined
}

/**
 * Borrows without a fiber, for kind implementations whose I/O is callback-based (a database
 * driver, an HTTP dispatcher). `callback` receives the `Borrow` — synchronously when an item is
 * idle, otherwise from inside the return that frees one, so the next request can go out in the
 * same tick (no scheduler hop between one borrower's return and the next one's send) — or
 * `undefined` and the failure (`PoolTimeoutError`, `PoolClosedError`, `PoolQueueFullError`, or
 * the creation error). The same `Borrow` is returned (to `cancel()` a borrow still waiting).
 * Every held borrow must be given back once with `return`. Application code should use `use`
 * or `get`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect, Exit } from "effect"
 *
 * declare const pool: Pool.Pool<{ send: (msg: string, done: (reply: string) => void) => void }>
 *
 * const request = (msg: string) =>
 *   Effect.callback<string, Pool.BorrowError>((resume) => {
 *     const borrow = Pool.unsafeBorrow(pool, (held, failure) => {
 *       if (held === undefined) return resume(Effect.failCause(failure!))
 *       held.value.send(msg, (reply) => {
 *         held.return(Exit.void) // the next waiter sends right now
 *         resume(Effect.succeed(reply))
 *       })
 *     })
 *     return Effect.sync(() => borrow.cancel())
 *   })
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeBorrow = <A, E>(
  self: Pool<A, E>,
  callback: (borrow: Borrow<A> | undefined, failure: Cause.Cause<E | BorrowError> | undefined) => void,
  options?: BorrowOptions
): Borrow<A> => {
  return startBorrow(shellOf(self), callback, options, undefined as never)
}

/**
 * Gives back a borrow from `unsafeBorrow` (the same as `borrow.return(exit)`).
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const pool: Pool.Pool<unknown>
 * declare const lease: Pool.Borrow<unknown>
 * Pool.unsafeReturn(pool, lease, Exit.void)
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeReturn = <A, E>(_self: Pool<A, E>, lease: Lease<A>, exit: Exit.Exit<unknown, unknown>): void =>
  (lease as Borrow<A>).return(exit)

/**
 * Marks a borrow from `unsafeBorrow` so that its item is destroyed when returned (the same as
 * `borrow.invalidate()`).
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const pool: Pool.Pool<unknown>
 * declare const lease: Pool.Borrow<unknown>
 * Pool.unsafeInvalidate(pool, lease)
 * Pool.unsafeReturn(pool, lease, Exit.void)
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeInvalidate = <A, E>(_self: Pool<A, E>, lease: Lease<A>): void => (lease as Borrow<A>).invalidate()

/**
 * Waits until the pool holds its `min` items — for a `make` that should return only when the
 * pool is warm (piscina's `minThreads` ready, HikariCP's `initializationFailTimeout`). Fails with
 * the creation error when creating one fails for good (the first failure with
 * `failWaitersOnCreateError`, else when `createRetry` ends), or with `PoolTimeoutError`
 * (`phase: "create"`, the last failure as `cause`) after `acquireTimeout` — or after
 * `options.timeout` when given (a kind whose warm-up is bounded by its own connect timeout, not
 * by how long a borrower may wait: `acquireTimeout: 0` must not cut a warm-up short). Use it inside
 * `Pool.closeOnFailure`, so that a failed warm-up stops the pool instead of leaving it retrying.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const warm = Pool.closeOnFailure(
 *   Effect.tap(Pool.make({ acquire: Effect.succeed({ id: 1 }), min: 2 }), Pool.awaitMin)
 * )
 * ```
 * @since 4.0.0
 * @category sizing
 */
export const awaitMin = <A, E>(
  self: Pool<A, E>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, E | PoolTimeoutError> =>
  shellOf(self).awaitMin(options?.timeout === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(options.timeout))) as Effect.Effect<void, E | PoolTimeoutError>

/**
 * Runs a constructor (a kind's `make`) in a scope of its own inside the caller's, closed at once
 * if it fails or is interrupted: a `make` that fails half-way stops everything it started — the
 * pool, its creations and retries, its background fibers — before it returns its error, also
 * when the caller goes on in the same scope.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const make = Pool.closeOnFailure(Effect.gen(function*() {
 *   const pool = yield* Pool.make({ acquire: Effect.succeed({ id: 1 }), min: 1 })
 *   yield* Pool.awaitMin(pool)
 *   return pool
 * }))
 * ```
 * @since 4.0.0
 * @category constructors
 */
export const closeOnFailure = <A, E, R>(make: Effect.Effect<A, E, R>): Effect.Effect<A, E, Scope.Scope | Exclude<R, Scope.Scope>> =>
  Effect.flatMap(Scope.Scope, (parent) =>
    Effect.flatMap(Scope.fork(parent, "sequential"), (child) =>
      Effect.onExit(
        Scope.provide(make, child),
        (exit) => Exit.isFailure(exit) ? Scope.close(child, exit) : Effect.void
      )))

/**
 * Destroys every idle item now (then `min` is topped up) — Go's `CloseIdleConnections`.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 *
 * declare const pool: Pool.Pool<unknown>
 * const flush = Pool.evictIdle(pool)
 * ```
 * @since 4.0.0
 * @category sizing
 */
export const evictIdle = <A, E>(self: Pool<A, E>): Effect.Effect<void> =>
  Effect.sync(() => {
    const shell = shellOf(self)
    shell.evictIdle()
  })

/**
 * Reads one duration option of a kind package in milliseconds (`Infinity` for none), rejecting
 * negative, NaN or malformed input with the same `PoolConfigError` the pool's own options get.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Result } from "effect"
 *
 * const connectTimeout = Pool.durationOption("db", "connectTimeout", "5 seconds", "10 seconds")
 * console.log(Result.getOrThrow(connectTimeout)) // 5000
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const durationOption: (
  pool: string,
  option: string,
  input: Duration.Input | undefined,
  fallback: Duration.Input
) => Result.Result<number, PoolConfigError> = config.durationOption
