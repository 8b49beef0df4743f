/**
 * `PgPool`: Postgres connections pooled by `@effect-pool/core`, served as @effect/sql-pg's
 * `PgClient` and @effect/sql's `SqlClient`. Swap `PgClient.layer(config)` for
 * `PgPool.layer(config)` and every line of an @effect/sql program keeps working.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { OptionCheck, Pool, PoolConfigError as PoolConfigErrorClass } from "@effect-pool/core"
import type { PoolConfigError } from "@effect-pool/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Schedule from "effect/Schedule"
import type { ConnectionOptions } from "node:tls"
import type Pg from "pg"
import { makeClient } from "./internal/client.js"
import * as Connection from "./internal/connection.js"
import { makeListener } from "./internal/listener.js"
import { isPermanent, isSingle, parseConnection, parseOptions, sqlPgAliases } from "./internal/options.js"
import { connectTarget, sessionState } from "./internal/hosts.js"
import { Options as Checks } from "@effect-pool/engine"
import * as Hosts from "@effect-pool/engine/pg/hosts"
import {
  describeChange,
  isReadOnlyViolation,
  makeHostBook,
  type LoadBalanceHosts,
  stateFromParameters,
  stillMatches,
  stateParameters,
  type TargetSessionAttrs
} from "@effect-pool/engine/pg/hosts"

/**
 * A pooled connection, for the rare code that needs the raw `pg.Client` (through
 * `Pool.use(pgPool.pool, ...)`). Ordinary code uses `SqlClient`.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const txStatus = Effect.flatMap(PgPool.PgPool, (pg) =>
 *   Pool.use(pg.pool, (conn: PgPool.PgConnection) => Effect.sync(() => conn.client.getTransactionStatus())))
 * ```
 * @since 0.1.0
 * @category models
 */
export type PgConnection = Connection.PgConnection

/**
 * Options of `PgPool.layer`. Connection settings follow @effect/sql-pg's `PgClientConfig`; pool
 * settings are `@effect-pool/core`'s, with Postgres defaults.
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
 *   idleTimeout: "5 minutes"
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Options extends
  Omit<
    Pool.Options<PgConnection, SqlError, never>,
    "acquire" | "validate" | "recycle" | "healthCheck" | "concurrency" | "targetUtilization"
  >
{
  /** `postgres://user:password@host:port/database` (redacted: it may hold the password). */
  readonly url?: Redacted<string> | undefined
  /**
   * One host, or several (`"h1,h2"` or an array) tried as libpq does (see `targetSessionAttrs`).
   * `url` may name several too: `postgres://u@h1:5432,h2:5433/db`. ["localhost"]
   */
  readonly host?: string | ReadonlyArray<string> | undefined
  /** One port for every host, or exactly one per host (`"5432,5433"` or an array). [5432] */
  readonly port?: number | string | ReadonlyArray<number> | undefined
  /**
   * Which server a connection may stay on, with libpq's meaning: `"read-write"`/`"read-only"`
   * (by `default_transaction_read_only` and hot standby), `"primary"`/`"standby"` (by
   * `pg_is_in_recovery()`), `"prefer-standby"` (a standby, else any), `"any"`. A pooled connection
   * whose server stops matching (a switchover) is evicted. Also `target_session_attrs` in `url`. ["any"]
   */
  readonly targetSessionAttrs?: TargetSessionAttrs | undefined
  /** `"random"`: each new connection tries the hosts in a random order (spreads load). Also `load_balance_hosts` in `url`. ["disable"] */
  readonly loadBalanceHosts?: LoadBalanceHosts | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted<string> | undefined
  /** TLS: `true`, or Node TLS options (`ca`, `servername`, …). Certificates are verified unless `rejectUnauthorized: false`. */
  readonly ssl?: boolean | ConnectionOptions | undefined
  /** Shown in `pg_stat_activity`. ["@effect-pool/pg"] */
  readonly applicationName?: string | undefined
  /** Longest a connection attempt may take. [10 s] */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Server-side `statement_timeout` (with `pgbouncer`: enforced by the client with a cancel request). [none] */
  readonly statementTimeout?: Duration.DurationInput | undefined
  /**
   * PgBouncer transaction mode: no session settings in the startup packet, and no named prepared
   * statements unless `prepareThreshold` is set (PgBouncer 1.21+ with `max_prepared_statements`). [false]
   */
  readonly pgbouncer?: boolean | undefined
  /**
   * A statement with parameters becomes a named prepared statement on its this-many-th run: each
   * connection then parses and plans it once, and afterwards only binds and executes it.
   * `0` never prepares. Statements without parameters and `.unprepared` ones are never prepared. [5; 0 with `pgbouncer`]
   */
  readonly prepareThreshold?: number | undefined
  /** Most distinct statements prepared (per pool, so per connection on the server). [256] */
  readonly maxPreparedStatements?: number | undefined
  /**
   * `SELECT 1` on idle connections on `schedule` [every 30 s], each within `timeout`
   * [`validateTimeout`]; a connection that fails it is evicted. Core's `healthCheck` shape without
   * `check` and `onFailure` (the check is the pool's). [off]
   */
  readonly healthCheck?: Pool.HealthCheckTiming | undefined
  readonly transformQueryNames?: ((name: string) => string) | undefined
  readonly transformResultNames?: ((name: string) => string) | undefined
  /** Apply the name transforms to JSON values too. [true] */
  readonly transformJson?: boolean | undefined
  readonly types?: Pg.CustomTypesConfig | undefined
  readonly spanAttributes?: Record<string, unknown> | undefined
  /** @effect/sql-pg's name for `max` (accepted for drop-in use; giving both with different values is an error). */
  readonly maxConnections?: number | undefined
  /** @effect/sql-pg's name for `min`. */
  readonly minConnections?: number | undefined
  /** @effect/sql-pg's name for `maxLifetime`. */
  readonly connectionTTL?: Duration.DurationInput | undefined
}

type Redacted<A> = import("effect/Redacted").Redacted<A>

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
 * @since 0.1.0
 * @category services
 */
export class PgPool extends Context.Tag("@effect-pool/pg/PgPool")<PgPool, {
  readonly pool: Pool.Pool<PgConnection, SqlError>
  /** The core pool's stats, and per server (`hosts`, in the target's order). */
  readonly stats: Effect.Effect<Stats>
  readonly resize: (size: { readonly min?: number; readonly max?: number }) => Effect.Effect<void, PoolConfigError>
  /** The process id of the LISTEN connection, while there is one. */
  readonly listenerPid: Effect.Effect<number | undefined>
}>() {}

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
 * @since 0.3.0
 * @category models
 */
export type HostStats = Hosts.HostStats

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
 * @since 0.3.0
 * @category models
 */
export interface Stats extends Pool.PoolStats {
  readonly hosts: ReadonlyArray<HostStats>
}

const hostGauges = {
  connections: Metric.gauge("effect_pool_pg_host_connections", { description: "connections open to the server (lent or idle)" }),
  idle: Metric.gauge("effect_pool_pg_host_idle", { description: "idle connections to the server" })
}

/** Postgres defaults where they differ from the core's. */
const pgDefaults = {
  name: "pg",
  maxLifetime: "30 minutes",
  validateAfterIdle: "5 seconds"
} as const

/** Retries creation with the core's backoff, but gives up at once on errors retrying cannot fix. */
const pgCreateRetry = Schedule.exponential("10 millis", 2).pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.jittered,
  Schedule.whileInput((error: unknown) => !isPermanent(error))
)

/**
 * Builds the services in the current scope.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { Effect, Redacted } from "effect"
 * import * as Reactivity from "@effect/experimental/Reactivity"
 *
 * const program = Effect.gen(function*() {
 *   const { client } = yield* PgPool.make({ url: Redacted.make("postgres://localhost/app") })
 *   return yield* client`SELECT 1`
 * }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  given: Options
): Effect.Effect<
  { readonly client: PgClient.PgClient; readonly pgPool: Context.Tag.Service<PgPool> },
  PoolConfigError,
  import("effect/Scope").Scope | Reactivity.Reactivity
> =>
  Effect.gen(function*() {
    const name = OptionCheck.nameOf(given, pgDefaults.name)
    // every option read once, into a copy (a getter that throws is that option's error)
    const options = (yield* OptionCheck.run(name, (check) => check.options(given))) as Options
    const core = yield* parseOptions(name, options as unknown as Record<string, unknown>)
    const settings = yield* parseConnection(name, options)
    const cancel = settings.cancel
    const target = settings.target
    const single = isSingle(target)
    const watch = (item: Pool.ItemHandle) => (conn: PgConnection) =>
      Effect.sync(() => {
        // a connection that breaks while idle is evicted at once, not lent; when the server
        // ended its session as part of ending many (shutdown, pg_terminate_backend), the other
        // idle connections go too: lending them would only fail more queries one by one
        conn.onBroken = (broken) => {
          item.invalidate()
          if (Connection.isServerTermination(broken.broken)) item.evictIdle()
        }
      })
    // several hosts or a session attribute: the first host whose session matches; a
    // connection whose server stops matching (a promotion, default_transaction_read_only
    // turned on, a write refused with 25006 — these two confirmed first, the host suspended
    // meanwhile) is evicted with that host's other connections (idle ones now, lent ones when
    // returned: a transaction finishes where it began); other hosts' connections stay
    const book = single ? undefined : makeHostBook(target)
    const hostOf = new WeakMap<PgConnection, Hosts.HostPort>()
    // confirmations run in the pool's scope (interrupted when it closes), with the layer's services
    const fork = book === undefined ? undefined : yield* FiberSet.makeRuntime<never, void, never>()
    /** The state of `host`'s server as a fresh session sees it (not a session's own SETs), within the engine's bound. */
    const serverState = (host: Hosts.HostPort) =>
      Effect.timeoutFail(
        Effect.scoped(Effect.flatMap(Connection.connect({ ...settings.client, host: host.host, port: host.port }), (fresh) => sessionState(fresh, cancel))),
        {
          duration: Hosts.confirmationTimeoutMillis(settings.connectTimeout),
          onTimeout: () => new Error("the fresh session did not answer in time")
        }
      )
    /** Asks a fresh session on `host` after `book.suspect`; the book carries out the answer. */
    const confirmOn = (host: Hosts.HostPort) => {
      fork!(Effect.flatMap(Effect.either(serverState(host)), (answer) =>
        Effect.sync(() =>
          book!.confirmed(host, answer._tag === "Right" ? { server: answer.right } : { failure: Checks.messageOfThrown(answer.left) })
        )))
    }
    const acquire = book === undefined
      ? (item: Pool.ItemHandle) => Effect.tap(Connection.connect(settings.client), watch(item))
      : (item: Pool.ItemHandle) =>
        Effect.flatMap(connectTarget(target, settings.client, cancel, book), ({ conn, host }) =>
          Effect.gen(function*() {
            hostOf.set(conn, host)
            const remove = book.add(host, item)
            yield* Effect.addFinalizer(() => Effect.sync(remove))
            const mismatch = (why: string) => {
              item.invalidate()
              book.mismatched(host, why)
              book.evict(host)
            }
            conn.onBroken = (broken) => {
              item.invalidate()
              // the server ended its sessions (shutdown, pg_terminate_backend): this host's
              // other connections are most likely gone too; other hosts' are not
              if (Connection.isServerTermination(broken.broken)) book.evict(host)
            }
            // a 25006 or a default_transaction_read_only report may be this session's own doing
            // (SET TRANSACTION READ ONLY, SET default_transaction_read_only): when it puts the
            // server in doubt (the engine's doubtsServer), the host is suspended at once — its
            // connections not lent, new ones tried elsewhere first — and a fresh session on it
            // asked; the engine's host book carries out the answer (judgeReadOnlySignal)
            const signal = (c: PgConnection, readOnly: boolean) => {
              const claimed = { inHotStandby: c.parameters.in_hot_standby === "on", readOnly }
              if (!Hosts.doubtsServer(target.targetSessionAttrs, claimed)) return
              if (book.suspect(host, item, () => c.parameters.default_transaction_read_only === "on")) confirmOn(host)
            }
            conn.onParameter = (c, parameter) => {
              if (!stateParameters.includes(parameter)) return
              if (parameter === "default_transaction_read_only") return signal(c, c.parameters.default_transaction_read_only === "on")
              // in_hot_standby: only the server changes it (a promotion)
              const state = stateFromParameters(c.parameters)
              if (state !== undefined && !stillMatches(target.targetSessionAttrs, state)) {
                mismatch(describeChange(target.targetSessionAttrs, state))
              }
            }
            // a write refused (25006): the server is read-only now, or the transaction is
            conn.onReadOnly = (c) => signal(c, true)
            return conn
          }))
    const check = single
      ? (conn: PgConnection) => Connection.validate(conn, cancel)
      : (conn: PgConnection) =>
        Effect.flatMap(Connection.validate(conn, cancel), () =>
          Effect.flatMap(sessionState(conn, cancel), (state) => {
            if (stillMatches(target.targetSessionAttrs, state)) return Effect.void
            const host = hostOf.get(conn)
            if (host === undefined || book === undefined) {
              return Effect.fail(new Error(`the server no longer matches targetSessionAttrs: ${describeChange(target.targetSessionAttrs, state)}`))
            }
            // this session may be read-only by its own SET: a fresh session tells the server's state
            return Effect.flatMap(serverState(host), (server) => {
              const verdict = Hosts.judgeReadOnlySignal(target.targetSessionAttrs, server, state.readOnly)
              if (verdict === "keep") return Effect.void
              if (verdict === "session") {
                return Effect.fail(new Error("the session made itself read-only by default (SET default_transaction_read_only): discarded"))
              }
              const why = describeChange(target.targetSessionAttrs, server)
              // found by the check (e.g. a server that did not report the change): its host's
              // other connections go too (a reported change has already done this)
              book.mismatched(host, why)
              book.evict(host)
              return Effect.fail(new Error(`the server no longer matches targetSessionAttrs: ${why}`))
            })
          }))
    const pool = yield* Pool.make<PgConnection, SqlError>({
      ...pgDefaults,
      createTimeout: settings.connectTimeout,
      createRetry: pgCreateRetry,
      ...core,
      acquire,
      validate: check,
      recycle: (conn) => Connection.recycle(conn, cancel),
      healthCheck: options.healthCheck === undefined ? undefined : { ...options.healthCheck, check }
    }).pipe(Effect.mapError((error) => aliasedError(options, error)))
    const listener = yield* makeListener(settings, book)
    const client = yield* makeClient(pool, settings, listener, options)
    return {
      client,
      pgPool: {
        pool,
        stats: Effect.map(Pool.stats(pool), (stats): Stats => {
          const hosts = book === undefined ? Hosts.singleHostStats(target.hosts[0]!, stats) : book.stats()
          for (const h of hosts) {
            const tags = [MetricLabel.make("pool", name), MetricLabel.make("host", Hosts.hostKey(h))]
            hostGauges.connections.unsafeUpdate(h.connections, tags)
            hostGauges.idle.unsafeUpdate(h.idle, tags)
          }
          return { ...stats, hosts }
        }),
        resize: (size) => Pool.resize(pool, size),
        listenerPid: Effect.sync(() => listener.current()?.pid)
      }
    }
  })

/** A core error about `max` when the user wrote @effect/sql-pg's `maxConnections` names what they wrote. */
const aliasedError = (options: Options, error: PoolConfigError): PoolConfigError => {
  for (const [theirs, ours] of Object.entries(sqlPgAliases)) {
    if (error.option === ours && (options as Record<string, unknown>)[theirs] !== undefined && (options as Record<string, unknown>)[ours] === undefined) {
      return new PoolConfigErrorClass({ pool: error.pool, option: theirs, reason: `${error.reason} (${theirs} is ${ours})` })
    }
  }
  return error
}

/**
 * A layer providing `SqlClient`, `PgClient` and `PgPool`: a drop-in replacement for
 * @effect/sql-pg's `PgClient.layer`. It does not connect at construction (unless `min` > 0,
 * which warms up in the background); bad options fail it with `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { SqlClient } from "@effect/sql"
 * import { Effect, Redacted } from "effect"
 *
 * const DbLive = PgPool.layer({ url: Redacted.make("postgres://postgres@localhost/app"), max: 10 })
 *
 * const program = Effect.gen(function*() {
 *   const sql = yield* SqlClient.SqlClient
 *   return yield* sql`SELECT ${1} AS one`
 * }).pipe(Effect.provide(DbLive))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<PgPool | PgClient.PgClient | SqlClient.SqlClient, PoolConfigError> =>
  Layer.scopedContext(
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
 *   url: Config.redacted("DATABASE_URL"),
 *   max: Config.integer("DB_POOL_MAX").pipe(Config.withDefault(10))
 * })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<PgPool | PgClient.PgClient | SqlClient.SqlClient, ConfigError.ConfigError | PoolConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

/**
 * Whether `error` is a write refused by a read-only server or transaction (SQLSTATE 25006
 * `read_only_sql_transaction`): e.g. a write that reached a standby, or the old primary after a
 * switchover. The statement failed; with `targetSessionAttrs: "read-write"` its connection is
 * evicted and the next one goes to the server that takes writes.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * import { SqlClient } from "@effect/sql"
 * import { Effect } from "effect"
 *
 * const insert = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`INSERT INTO t VALUES (1)`).pipe(
 *   Effect.catchIf(PgPool.isReadOnlyError, () => Effect.log("reached a read-only server")))
 * ```
 * @since 0.1.0
 * @category errors
 */
export const isReadOnlyError = (error: unknown): boolean => {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error
  return isReadOnlyViolation((cause as { code?: unknown } | null)?.code)
}

export { SqlError }
