/**
 * `PgPool`: @effect/sql-pg 4's own Postgres sessions pooled by `@effect-pool/core`, served as
 * `PgClient` and Effect 4's `SqlClient`. Swap `PgClient.layer(config)` for `PgPool.layer(config)`
 * and every line of an `effect/sql` program keeps working.
 *
 * @since 4.0.0
 */
import { OptionCheck, Pool, PoolConfigError } from "@effect-pool/core"
import { PgClient } from "@effect/sql-pg"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { makeClient } from "./internal/client.js"
import * as Connection from "./internal/connection.js"
import * as Hosts from "./internal/hosts.js"
import { isPermanent, parse, sqlPgAliases, sqlState } from "./internal/options.js"
import * as HostsEngine from "@effect-pool/engine/pg/hosts"
import { isReadOnlyViolation } from "@effect-pool/engine/pg/hosts"

/**
 * A pooled connection, for the rare code that needs the driver's session itself (through
 * `Pool.use(pgPool.pool, ...)`). Ordinary code uses `SqlClient`.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const backendPid = Effect.flatMap(PgPool.PgPool, (pg) =>
 *   Pool.use(pg.pool, (conn: PgPool.PooledConnection) => Effect.succeed(conn.pid)))
 * ```
 * @since 4.0.0
 * @category models
 */
export type PooledConnection = Connection.PooledConnection

/**
 * Options of `PgPool.layer`: @effect/sql-pg 4's `PgPoolConfig` (connection settings, `multiplex`,
 * transforms) plus `@effect-pool/core`'s pool settings with Postgres defaults.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Redacted } from "effect"
 *
 * const options: PgPool.Options = {
 *   url: Redacted.make("postgres://app:secret@db.internal:5432/app"),
 *   max: 20,
 *   statementTimeout: "30 seconds",
 *   acquireTimeout: "5 seconds"
 * }
 * ```
 * @since 4.0.0
 * @category models
 */
export interface Options extends
  Omit<
    Pool.Options<PooledConnection, SqlError, never>,
    "acquire" | "validate" | "recycle" | "healthCheck" | "concurrency" | "targetUtilization"
  >,
  Omit<PgClient.PgClientConfig, "multiplexConcurrency" | "host" | "port">
{
  /**
   * Pipeline statements of several fibers on each connection (@effect/sql-pg 4's `multiplex`):
   * transactions, `reserve`, streams and `listen` still take a connection of their own. [false]
   */
  readonly multiplex?: boolean | undefined
  /** Statements sharing one connection with `multiplex` (1–1024). [32] */
  readonly multiplexConcurrency?: number | undefined
  /**
   * Server-side `statement_timeout` (startup parameter), rounded up to whole ms; with
   * `pgbouncer`, enforced by the client (the interruption sends a cancel request). [none]
   */
  readonly statementTimeout?: Duration.Input | undefined
  /**
   * PgBouncer transaction mode: no session settings in the startup packet, no named prepared
   * statements unless `prepare: true` (PgBouncer 1.21+ with `max_prepared_statements`). [false]
   */
  readonly pgbouncer?: boolean | undefined
  /**
   * Which server a connection may use, with libpq's `target_session_attrs` meaning: `any`,
   * `read-write` / `read-only` (the session's `transaction_read_only`), `primary` / `standby`
   * (`pg_is_in_recovery()`), `prefer-standby` (a standby, else any). Hosts are tried in order
   * (`host`/`port` lists or a multi-host `url`); one that does not match is closed and the next
   * tried. Also read from the URL's `target_session_attrs`. [any]
   */
  readonly targetSessionAttrs?: "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby" | undefined
  /** `random`: each connection tries the hosts in a random order (libpq's `load_balance_hosts`). [disable] */
  readonly loadBalanceHosts?: "disable" | "random" | undefined
  /**
   * One host, or several (`"h1,h2"` or `["h1", "h2"]`, libpq's host list), tried in order.
   * [the URL's, else localhost]
   */
  readonly host?: string | ReadonlyArray<string> | undefined
  /** One port for every host, or exactly one per host (`"5432,5433"` or `[5432, 5433]`). [5432] */
  readonly port?: number | string | ReadonlyArray<number> | undefined
  /**
   * `SELECT 1` on idle connections on `schedule` [every 30 s], each within `timeout`
   * [`validateTimeout`]; a connection that fails it is evicted. Core's `healthCheck` shape without
   * `check` and `onFailure` (the check is the pool's). [off]
   */
  readonly healthCheck?: Pool.HealthCheckTiming | undefined
  /** @effect/sql-pg's name for `max` (giving both with different values is an error). */
  readonly maxConnections?: number | undefined
  /** @effect/sql-pg's name for `min`. */
  readonly minConnections?: number | undefined
  /** @effect/sql-pg's name for `maxLifetime`. */
  readonly connectionTTL?: Duration.Input | undefined
  /** Idle connections beyond `min` are closed after this (@effect/sql-pg's name too). [10 min] */
  readonly idleTimeout?: Duration.Input | undefined
}

/**
 * The pool behind the `SqlClient`: its stats and size, and the core pool itself.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect } from "effect"
 *
 * const report = Effect.gen(function*() {
 *   const pg = yield* PgPool.PgPool
 *   const stats = yield* pg.stats
 *   yield* Effect.log(`${stats.borrowed}/${stats.size} connections busy, ${stats.waiting} waiting`)
 * })
 * ```
 * @since 4.0.0
 * @category services
 */
export class PgPool extends Context.Service<PgPool, {
  readonly pool: Pool.Pool<PooledConnection, SqlError>
  /** The core pool's stats, and per server (`hosts`, in the target's order). */
  readonly stats: Effect.Effect<Stats>
  readonly resize: (size: { readonly min?: number; readonly max?: number }) => Effect.Effect<void, PoolConfigError>
}>()("@effect-pool/pg/PgPool") {}

/**
 * One server of the pool (the engine's shape, the same in both editions): its connections
 * (lent or idle) and idle ones, why its last connection attempt failed (absent once one
 * succeeds), and why its last session was refused or evicted for not matching
 * `targetSessionAttrs` (absent once a session on it is kept again).
 *
 * @example
 * ```ts
 * import type { PgPool } from "@effect-pool/pg"
 *
 * const line = (h: PgPool.HostStats) =>
 *   `${h.host}:${h.port} ${h.connections} connections (${h.idle} idle)${h.lastMismatch === undefined ? "" : `, ${h.lastMismatch}`}`
 * ```
 * @since 4.0.0
 * @category models
 */
export type HostStats = HostsEngine.HostStats

/**
 * `PgPool.stats`: the core pool's stats, and `hosts`: one entry per server of the target, in
 * its order (one for a single server, from the pool's own counts). Reading them also refreshes
 * the gauges `effect_pool_pg_host_connections` and `effect_pool_pg_host_idle`, labelled `pool`
 * and `host` (`host:port`).
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect } from "effect"
 *
 * const report = Effect.gen(function*() {
 *   const pg = yield* PgPool.PgPool
 *   const stats: PgPool.Stats = yield* pg.stats
 *   for (const h of stats.hosts) yield* Effect.log(`${h.host}:${h.port}: ${h.connections} open, ${h.idle} idle`)
 * })
 * ```
 * @since 4.0.0
 * @category models
 */
export interface Stats extends Pool.PoolStats {
  readonly hosts: ReadonlyArray<HostStats>
}

/** A host's gauges, labelled `pool` and `host`. */
const hostGauges = (pool: string, host: string) => {
  const attributes = { pool, host }
  return {
    connections: Metric.gauge("effect_pool_pg_host_connections", { description: "connections open to the server (lent or idle)", attributes }),
    idle: Metric.gauge("effect_pool_pg_host_idle", { description: "idle connections to the server", attributes })
  }
}

/** Postgres defaults where they differ from the core's. */
const pgDefaults = {
  name: "pg",
  maxLifetime: "30 minutes",
  validateAfterIdle: "5 seconds"
} as const

/** Retries creation with the core's backoff, but gives up at once on errors retrying cannot fix. */
const pgCreateRetry = Schedule.min([Schedule.exponential("10 millis", 2), Schedule.spaced("1 second")]).pipe(
  Schedule.jittered,
  Schedule.setInputType<unknown>(),
  Schedule.while(({ input }) => !isPermanent(input))
)

/** A core error about `max` when the user wrote @effect/sql-pg's `maxConnections` names what they wrote. */
const aliasedError = (options: Record<string, unknown>, error: PoolConfigError): PoolConfigError => {
  for (const [theirs, ours] of Object.entries(sqlPgAliases)) {
    if (error.option === ours && options[theirs] !== undefined && options[ours] === undefined) {
      return new PoolConfigError({ pool: error.pool, option: theirs, reason: `${error.reason} (${theirs} is ${ours})` })
    }
  }
  return error
}

/**
 * Builds the services in the current scope.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect, Redacted } from "effect"
 * import * as Reactivity from "effect/reactivity/Reactivity"
 *
 * const program = Effect.gen(function*() {
 *   const { client } = yield* PgPool.make({ url: Redacted.make("postgres://localhost/app") })
 *   return yield* client`SELECT 1`
 * }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))
 * ```
 * @since 4.0.0
 * @category constructors
 */
export const make = (
  given: Options
): Effect.Effect<
  { readonly client: PgClient.PgClient; readonly pgPool: PgPool["Service"] },
  PoolConfigError,
  Scope.Scope | Reactivity.Reactivity
> =>
  Effect.gen(function*() {
    const name = OptionCheck.nameOf(given, pgDefaults.name)
    const parsed = parse(given as unknown as Record<string, unknown>)
    if (!parsed.ok) return yield* new PoolConfigError({ pool: name, option: parsed.option, reason: parsed.reason })
    const { core, settings } = parsed.value
    // the checked copy: a user's getters and Proxy traps ran once, in parse
    const input = parsed.value.options
    const options = input as unknown as Options
    const check = Connection.validate
    // more than one server (or a session attribute to check): each connection tries the hosts
    const several = settings.target === undefined
      ? undefined
      : Hosts.make(settings.connection, settings.target, yield* FiberSet.makeRuntime<never, void, never>())
    const gaugesOf = new Map<string, ReturnType<typeof hostGauges>>()
    const acquire = several === undefined
      ? (item: Pool.ItemHandle) => Connection.open(settings.connection, item)
      : several.acquire
    const pool = yield* Pool.make<PooledConnection, SqlError>({
      ...pgDefaults,
      createTimeout: settings.connectTimeout,
      createRetry: pgCreateRetry,
      ...core,
      acquire,
      validate: check,
      recycle: Connection.recycle,
      healthCheck: options.healthCheck === undefined ? undefined : { ...options.healthCheck, check }
    }).pipe(Effect.mapError((error) => aliasedError(input, error)))
    const client = yield* makeClient(pool, settings, options)
    return {
      client,
      pgPool: {
        pool,
        stats: Effect.flatMap(Pool.stats(pool), (stats) => {
          const hosts = several === undefined ? HostsEngine.singleHostStats(settings.firstHost, stats) : several.book.stats()
          return Effect.as(
            Effect.forEach(hosts, (h) => {
              const key = HostsEngine.hostKey(h)
              let gauges = gaugesOf.get(key)
              if (gauges === undefined) gaugesOf.set(key, gauges = hostGauges(name, key))
              return Effect.andThen(Metric.update(gauges.connections, h.connections), Metric.update(gauges.idle, h.idle))
            }, { discard: true }),
            { ...stats, hosts } satisfies Stats
          )
        }),
        resize: (size) => Pool.resize(pool, size)
      }
    }
  })

/**
 * Did the statement fail because its server is read-only (SQLSTATE 25006: a write on a standby,
 * or on a primary made read-only by a switchover)? The pool has already dropped that server's
 * connections; the write was not done, so retrying it reaches a server that takes writes.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect, Schedule } from "effect"
 * import { SqlClient } from "effect/sql"
 *
 * const insert = Effect.gen(function*() {
 *   const sql = yield* SqlClient.SqlClient
 *   yield* sql`INSERT INTO events (id) VALUES (${"e-1"}) ON CONFLICT DO NOTHING`
 * }).pipe(Effect.retry({ while: PgPool.isReadOnlyError, schedule: Schedule.spaced("100 millis"), times: 10 }))
 * ```
 * @since 4.0.0
 * @category errors
 */
export const isReadOnlyError = (error: unknown): boolean => isReadOnlyViolation(sqlState(error))

/**
 * A layer providing `SqlClient`, `PgClient` and `PgPool`: a drop-in replacement for
 * @effect/sql-pg 4's `PgClient.layer`. It does not connect when built (with `min` > 0 it warms
 * up in the background); bad options fail it with a `PoolConfigError` naming the option.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect, Redacted } from "effect"
 * import { SqlClient } from "effect/sql"
 *
 * const DbLive = PgPool.layer({ url: Redacted.make("postgres://postgres@localhost/app"), max: 10 })
 *
 * const program = Effect.gen(function*() {
 *   const sql = yield* SqlClient.SqlClient
 *   return yield* sql`SELECT ${1} AS one`
 * }).pipe(Effect.provide(DbLive))
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<PgPool | PgClient.PgClient | SqlClient.SqlClient, PoolConfigError> =>
  Layer.effectContext(
    Effect.map(make(options), ({ client, pgPool }) =>
      Context.make(PgPool, pgPool).pipe(
        Context.add(PgClient.PgClient, client),
        Context.add(SqlClient.SqlClient, client)
      ))
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * `layer` with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Config } from "effect"
 *
 * const DbLive = PgPool.layerConfig({
 *   url: Config.Redacted("DATABASE_URL"),
 *   max: Config.Int("DB_POOL_MAX").pipe(Config.withDefault(10))
 * })
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Wrap<Options>
): Layer.Layer<PgPool | PgClient.PgClient | SqlClient.SqlClient, Config.ConfigError | PoolConfigError> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layer))

