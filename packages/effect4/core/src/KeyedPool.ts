/**
 * `KeyedPool`: one pool per key — an HTTP origin, a database shard, a tenant — made on first
 * use, with a limit per key, an optional limit across all keys (`maxTotal`: at the cap, the
 * oldest idle item of another key is destroyed to make room), and removal of keys left unused.
 *
 * @since 4.0.0
 */
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Exit from "effect/Exit"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type * as Scope from "effect/Scope"
import * as borrow from "./internal/borrow.js"
import * as internal from "./internal/keyed.js"
import type { PoolShell } from "./internal/shell.js"
import * as State from "@effect-pool/engine/state"
import type { Borrow, BorrowError, BorrowOptions, ItemHandle, Lease, Options as PoolOptions, PoolStats } from "./Pool.js"
import { startBorrow } from "./internal/callbackBorrow.js"
import { statsOf } from "./internal/stats.js"
import { PoolClosedError, type PoolConfigError } from "./PoolError.js"

/**
 * An item lent by `unsafeBorrow`.
 *
 * @since 4.0.0
 * @category kind implementations
 */
export type { Lease }

/**
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 *
 * declare const u: unknown
 * const isKeyedPool = typeof u === "object" && u !== null && KeyedPool.TypeId in u
 * ```
 * @since 4.0.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@effect-pool/core/KeyedPool")

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 *
 * const id: KeyedPool.TypeId = KeyedPool.TypeId
 * ```
 * @since 4.0.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A pool of `A`s per key `K`; creation may fail with `E`.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const pool: KeyedPool.KeyedPool<string, { origin: string }> = yield* KeyedPool.make({
 *     acquire: (origin: string) => Effect.succeed({ origin }),
 *     maxPerKey: 8
 *   })
 *   return yield* KeyedPool.use(pool, "https://a.example", (conn) => Effect.succeed(conn.origin))
 * }).pipe(Effect.scoped)
 * ```
 * @since 4.0.0
 * @category models
 */
export interface KeyedPool<in out K, in out A, in out E = never> extends Pipeable {
  readonly [TypeId]: {
    readonly _K: (_: K) => K
    readonly _A: (_: A) => A
    readonly _E: (_: E) => E
  }
  readonly name: string
}

/**
 * Options of `KeyedPool.make`: those of `Pool.make` (applied to each key; `min` is per key),
 * with `acquire` taking the key, plus the keyed limits.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const options: KeyedPool.Options<string, { shard: string }, never, never> = {
 *   acquire: (shard) => Effect.succeed({ shard }),
 *   maxPerKey: 4,
 *   maxTotal: 32,
 *   idleKeyTimeout: "10 minutes"
 * }
 * ```
 * @since 4.0.0
 * @category models
 */
export interface Options<K, A, E, R> extends Omit<PoolOptions<A, E, R>, "acquire" | "max"> {
  /** Creates one item for `key`, in the item's own scope. */
  /** Creates one item for `key`; `item` is its handle (`Pool.ItemHandle`, for kind implementations). */
  readonly acquire: (key: K, item: ItemHandle) => Effect.Effect<A, E, Scope.Scope | R>
  /** Most items alive per key. [10] */
  readonly maxPerKey?: number | undefined
  /** Most items alive across all keys; at the cap another key's oldest idle item makes room. [Infinity] */
  readonly maxTotal?: number | undefined
  /** Most idle items across all keys; beyond it the oldest idle item (of a key above its min) is destroyed. [Infinity] */
  readonly maxIdleTotal?: number | undefined
  /** A key with no item, creation, waiter or borrower for this long is removed. [5 min] */
  readonly idleKeyTimeout?: Duration.Input | undefined
}

/**
 * Totals over all keys (counters include keys already removed), and each live key's stats.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, unknown>
 * const busiest = Effect.map(KeyedPool.stats(pool), (s) =>
 *   [...s.perKey].sort(([, a], [, b]) => b.borrowed - a.borrowed)[0]?.[0]
 * )
 * ```
 * @since 4.0.0
 * @category models
 */
export interface KeyedPoolStats<K> extends Omit<PoolStats, "min" | "max"> {
  /** Keys with a live sub-pool. */
  readonly keys: number
  readonly maxPerKey: number
  readonly maxTotal: number
  readonly perKey: ReadonlyMap<K, PoolStats>
}

const variance = { _K: (_: any) => _, _A: (_: any) => _, _E: (_: any) => _ }

class KeyedPoolImpl<K, A, E> implements KeyedPool<K, A, E> {
  readonly [TypeId] = variance
  readonly name: string
  constructor(readonly keyed: internal.KeyedPoolShell<K, A, E>) {
    this.name = keyed.config.name
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
}

const keyedOf = <K, A, E>(self: KeyedPool<K, A, E>) => (self as KeyedPoolImpl<K, A, E>).keyed

/** Runs `f` with the shell of `key`, or fails with `PoolClosedError` once the pool is closed. */
const withShell = <K, A, E, X, Y, Z>(
  self: KeyedPool<K, A, E>,
  key: K,
  f: (shell: PoolShell<A, E>) => Effect.Effect<X, Y, Z>
): Effect.Effect<X, Y | PoolClosedError, Z> =>
  Effect.suspend((): Effect.Effect<X, Y | PoolClosedError, Z> => {
    const shell = keyedOf(self).shellFor(key)
    return shell === undefined ? Effect.fail(new PoolClosedError({ pool: self.name })) : f(shell)
  })

/**
 * Makes a keyed pool in the current scope; closing the scope closes every key's pool.
 * Bad options fail with `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const pool = KeyedPool.make({
 *   acquire: (shard: number) => Effect.succeed({ shard }),
 *   maxPerKey: 2,
 *   maxTotal: 6
 * })
 * ```
 * @since 4.0.0
 * @category constructors
 */
export const make = <K, A, E = never, R = never>(
  options: Options<K, A, E, R>
): Effect.Effect<KeyedPool<K, A, E>, PoolConfigError, Scope.Scope | R> =>
  Effect.map(internal.makeKeyed(options), (keyed) => new KeyedPoolImpl(keyed))

/**
 * Makes a `Layer` providing a keyed pool under `tag`.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Context, Effect } from "effect"
 *
 * class Shards extends Context.Service<Shards, KeyedPool.KeyedPool<number, { shard: number }>>()("Shards") {}
 *
 * const ShardsLive = KeyedPool.layer(Shards, { acquire: (shard: number) => Effect.succeed({ shard }), maxPerKey: 4 })
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layer = <I, K, A, E = never, R = never>(
  tag: Context.Key<I, KeyedPool<K, A, E>>,
  options: Options<K, A, E, R>
): Layer.Layer<I, PoolConfigError, Exclude<R, Scope.Scope>> => Layer.effect(tag, make(options))

/**
 * `layer` with the keyed pool's settings read from `Config` (the lifecycle callbacks stay in code).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Config, Context, Effect } from "effect"
 *
 * class Shards extends Context.Service<Shards, KeyedPool.KeyedPool<number, { shard: number }>>()("Shards") {}
 *
 * const ShardsLive = KeyedPool.layerConfig(Shards, { acquire: (shard: number) => Effect.succeed({ shard }) }, {
 *   maxPerKey: Config.Int("SHARD_POOL_MAX").pipe(Config.withDefault(4))
 * })
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layerConfig = <I, K, A, E = never, R = never>(
  tag: Context.Key<I, KeyedPool<K, A, E>>,
  lifecycle: Pick<Options<K, A, E, R>, "acquire" | "validate" | "recycle" | "healthCheck" | "createRetry">,
  config: Config.Wrap<Omit<Options<K, unknown, unknown, unknown>, "acquire" | "validate" | "recycle" | "healthCheck" | "createRetry">>
): Layer.Layer<I, PoolConfigError | Config.ConfigError, Exclude<R, Scope.Scope>> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), (settings) => layer(tag, { ...settings, ...lifecycle } as Options<K, A, E, R>)))

/**
 * Borrows an item of `key` until the enclosing `Scope` closes.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, { send: (s: string) => void }>
 * const program = Effect.scoped(
 *   Effect.map(KeyedPool.get(pool, "https://a.example"), (conn) => conn.send("GET /"))
 * )
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const get: {
  <K>(key: K): <A, E>(self: KeyedPool<K, A, E>) => Effect.Effect<A, E | BorrowError, Scope.Scope>
  <K, A, E>(self: KeyedPool<K, A, E>, key: K): Effect.Effect<A, E | BorrowError, Scope.Scope>
} = dual(
  2,
  <K, A, E>(self: KeyedPool<K, A, E>, key: K) =>
    withShell(self, key, borrow.get) as Effect.Effect<A, E | BorrowError, Scope.Scope>
)

/**
 * Borrows an item of `key` around one effect (the fast path).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, { query: (q: string) => number }>
 * const n = KeyedPool.use(pool, "shard-1", (conn) => Effect.sync(() => conn.query("select 1")))
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const use: {
  <K, A, X, Y, Z>(
    key: K,
    f: (item: A) => Effect.Effect<X, Y, Z>
  ): <E>(self: KeyedPool<K, A, E>) => Effect.Effect<X, Y | E | BorrowError, Z>
  <K, A, E, X, Y, Z>(
    self: KeyedPool<K, A, E>,
    key: K,
    f: (item: A) => Effect.Effect<X, Y, Z>
  ): Effect.Effect<X, Y | E | BorrowError, Z>
} = dual(
  3,
  <K, A, E, X, Y, Z>(self: KeyedPool<K, A, E>, key: K, f: (item: A) => Effect.Effect<X, Y, Z>) =>
    withShell(self, key, (shell) => borrow.use(shell, f)) as Effect.Effect<X, Y | E | BorrowError, Z>
)

/**
 * Marks an item so that it is destroyed when returned (or at once, if idle).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, { ok: boolean }>
 * const program = KeyedPool.use(pool, "a", (conn) => (conn.ok ? Effect.void : KeyedPool.invalidate(pool, conn)))
 * ```
 * @since 4.0.0
 * @category borrowing
 */
export const invalidate: {
  <A>(item: A): <K, E>(self: KeyedPool<K, A, E>) => Effect.Effect<void>
  <K, A, E>(self: KeyedPool<K, A, E>, item: A): Effect.Effect<void>
} = dual(2, <K, A, E>(self: KeyedPool<K, A, E>, value: A) =>
  Effect.sync(() => {
    keyedOf(self).index.invalidate(value)
  }))

/**
 * Totals and per-key stats (also refreshes the metrics).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, unknown>
 * const report = Effect.flatMap(KeyedPool.stats(pool), (s) => Effect.log(`${s.keys} keys, ${s.size}/${s.maxTotal} items`))
 * ```
 * @since 4.0.0
 * @category observability
 */
export const stats = <K, A, E>(self: KeyedPool<K, A, E>): Effect.Effect<KeyedPoolStats<K>> =>
  Effect.sync(() => {
    const keyed = keyedOf(self)
    keyed.refreshMetrics()
    const perKey = new Map<K, PoolStats>()
    const totals = { ...keyed.retired, size: 0, idle: 0, borrowed: 0, waiting: 0, creating: 0, suspended: 0, destroying: 0 }
    for (const [key, shell] of keyed.shells) {
      const s = statsOf(shell)
      perKey.set(key, s)
      for (const name of Object.keys(totals) as Array<keyof typeof totals>) totals[name] += s[name]
    }
    return {
      name: keyed.config.name,
      ...totals,
      closed: keyed.closed,
      keys: perKey.size,
      maxPerKey: keyed.config.max,
      maxTotal: keyed.maxTotal,
      perKey
    }
  })

/**
 * A `Pool.Borrow` of one key's pool, with its key.
 *
 * @example
 * ```ts
 * import type { KeyedPool } from "@effect-pool/core"
 *
 * const keyOf = (borrow: KeyedPool.KeyedBorrow<string, unknown>): string => borrow.key
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export interface KeyedBorrow<K, A> extends Borrow<A> {
  readonly key: K
}

/**
 * `Pool.unsafeBorrow` for a key: borrow without a fiber (for kind implementations). The
 * returned `KeyedBorrow` is the one the callback gets; it returns to its key's pool by itself.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, { send: (done: () => void) => void }>
 * const borrow = KeyedPool.unsafeBorrow(pool, "https://a.example", (held, failure) => {
 *   if (held === undefined) return console.error(failure)
 *   held.value.send(() => held.return(Exit.void))
 * })
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeBorrow = <K, A, E>(
  self: KeyedPool<K, A, E>,
  key: K,
  callback: (borrow: KeyedBorrow<K, A> | undefined, failure: Cause.Cause<E | BorrowError> | undefined) => void,
  options?: BorrowOptions
): KeyedBorrow<K, A> => {
  const shell = keyedOf(self).shellFor(key)
  if (shell === undefined) {
    callback(undefined, Cause.fail(new PoolClosedError({ pool: self.name })))
    return closedBorrow(key)
  }
  return startBorrow(shell, callback, options, key)
}

/** The borrow of a closed keyed pool: failed, nothing to give back. */
const closedBorrow = <K, A>(key: K): KeyedBorrow<K, A> => ({
  key,
  state: "failed",
  value: undefined as A,
  handle: undefined,
  return: () => {},
  cancel: () => {},
  abort: () => {},
  invalidate: () => {},
  retry: () => false
})

/**
 * Gives back a borrow of `key` from `unsafeBorrow` (the same as `borrow.return(exit)`).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 * import { Exit } from "effect"
 *
 * declare const pool: KeyedPool.KeyedPool<string, unknown>
 * declare const lease: KeyedPool.KeyedBorrow<string, unknown>
 * KeyedPool.unsafeReturn(pool, "a", lease, Exit.void)
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeReturn = <K, A, E>(_self: KeyedPool<K, A, E>, _key: K, lease: Lease<A>, exit: Exit.Exit<unknown, unknown>): void =>
  (lease as Borrow<A>).return(exit)

/**
 * Marks a borrow of `key` so that its item is destroyed when returned (`borrow.invalidate()`).
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 *
 * declare const pool: KeyedPool.KeyedPool<string, unknown>
 * declare const lease: KeyedPool.KeyedBorrow<string, unknown>
 * KeyedPool.unsafeInvalidate(pool, "a", lease)
 * ```
 * @since 4.0.0
 * @category kind implementations
 */
export const unsafeInvalidate = <K, A, E>(_self: KeyedPool<K, A, E>, _key: K, lease: Lease<A>): void =>
  (lease as Borrow<A>).invalidate()

/**
 * Destroys every idle item of every key now.
 *
 * @example
 * ```ts
 * import { KeyedPool } from "@effect-pool/core"
 *
 * declare const pool: KeyedPool.KeyedPool<string, unknown>
 * const flush = KeyedPool.evictIdle(pool)
 * ```
 * @since 4.0.0
 * @category sizing
 */
export const evictIdle = <K, A, E>(self: KeyedPool<K, A, E>): Effect.Effect<void> =>
  Effect.sync(() => {
    for (const [, shell] of keyedOf(self).shells) shell.apply((out) => State.evictIdle(shell.state, out))
  })
