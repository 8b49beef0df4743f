/**
 * `HttpPool`: keep-alive HTTP/1.1 connections pooled per origin by `@effect-pool/core`, served
 * as @effect/platform's `HttpClient`. What Go's `http.Transport` gives — connection reuse per
 * host with limits and idle timeouts — plus a cap across origins, per-origin stats, and a safe
 * retry of idempotent requests that hit a connection the server had just closed.
 *
 * @since 0.1.0
 */
import { KeyedPool, Pool, PoolConfigError } from "@effect-pool/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Scope } from "effect/Scope"
import { type Connection, PoolDispatcher } from "./internal/dispatcher.js"

/**
 * Options of `HttpPool.layer`; defaults in brackets (Go's `http.Transport` names in parentheses).
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 *
 * const options: HttpPool.Options = {
 *   maxConnectionsPerOrigin: 16,
 *   maxConnectionsTotal: 128,
 *   idleTimeout: "30 seconds",
 *   tls: { rejectUnauthorized: true }
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Label of metrics and logs. ["http"] */
  readonly name?: string | undefined
  /** Most connections per origin (MaxConnsPerHost); more requests wait. [10] */
  readonly maxConnectionsPerOrigin?: number | undefined
  /** Most idle connections kept per origin (MaxIdleConnsPerHost). [maxConnectionsPerOrigin] */
  readonly maxIdlePerOrigin?: number | undefined
  /** Most idle connections kept across origins (MaxIdleConns). [100] */
  readonly maxIdleTotal?: number | undefined
  /** Most connections across origins; at the cap another origin's oldest idle connection is closed to make room. [Infinity] */
  readonly maxConnectionsTotal?: number | undefined
  /** Idle connections are closed after this (IdleConnTimeout) — sooner when the server's `Keep-Alive: timeout=` hint says so. [90 s] */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** How long before the server's Keep-Alive timeout a connection stops being reused. [1 s] */
  readonly keepAliveMargin?: Duration.DurationInput | undefined
  /** Longest a TCP (+ TLS) connect may take. [10 s] */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Longest a request waits for a connection of its origin. [30 s] */
  readonly acquireTimeout?: Duration.DurationInput | undefined
  /** Connections are replaced after this long. [Infinity] */
  readonly maxLifetime?: Duration.DurationInput | undefined
  /** Idle origins are forgotten after this. [5 min] */
  readonly idleOriginTimeout?: Duration.DurationInput | undefined
  /** TLS settings; certificates are verified unless `rejectUnauthorized: false`. TLS sessions are reused across connections. */
  readonly tls?: {
    readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
    readonly cert?: string | Buffer | undefined
    readonly key?: string | Buffer | undefined
    readonly servername?: string | undefined
    readonly rejectUnauthorized?: boolean | undefined
  } | undefined
}

/**
 * Per-origin stats and control of the pool behind the `HttpClient`.
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 * import { Effect } from "effect"
 *
 * const report = Effect.gen(function*() {
 *   const pool = yield* HttpPool.HttpPool
 *   const stats = yield* pool.stats
 *   for (const [origin, s] of stats.perKey) yield* Effect.log(`${origin}: ${s.size} open, ${s.idle} idle`)
 * })
 * ```
 * @since 0.1.0
 * @category services
 */
export class HttpPool extends Context.Tag("@effect-pool/http/HttpPool")<HttpPool, {
  readonly stats: Effect.Effect<KeyedPool.KeyedPoolStats<string>>
  /** Closes every idle connection (Go's CloseIdleConnections). */
  readonly closeIdle: Effect.Effect<void>
  readonly pool: KeyedPool.KeyedPool<string, Connection>
}>() {}

/** The core's option names, as users of this package know them. */
const optionNames: Record<string, string> = {
  max: "maxConnectionsPerOrigin",
  maxIdle: "maxIdlePerOrigin",
  maxTotal: "maxConnectionsTotal",
  maxIdleTotal: "maxIdleTotal",
  idleKeyTimeout: "idleOriginTimeout"
}

/** The durations this package reads itself, in ms, validated like the pool's options. */
interface Timings {
  readonly idleTimeout: number
  readonly keepAliveMargin: number
  readonly connectTimeout: number
}

const timingsOf = (options: Options): Effect.Effect<Timings, PoolConfigError> => {
  const name = options.name ?? "http"
  return Effect.all({
    idleTimeout: Pool.durationOption(name, "idleTimeout", options.idleTimeout, "90 seconds"),
    keepAliveMargin: Pool.durationOption(name, "keepAliveMargin", options.keepAliveMargin, "1 second"),
    connectTimeout: Pool.durationOption(name, "connectTimeout", options.connectTimeout, "10 seconds")
  })
}

/** A connection: one undici Client, destroyed with its item; a closed socket invalidates it. */
const connection = (
  origin: string,
  timings: Timings,
  connect: Undici.buildConnector.connector,
  pool: () => KeyedPool.KeyedPool<string, Connection> | undefined
): Effect.Effect<Connection, never, Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const idle = timings.idleTimeout
      const client = new Undici.Client(origin, {
        connect,
        pipelining: 1,
        // undici closes an idle socket at min(this, the server's Keep-Alive hint - margin)
        keepAliveTimeout: idle,
        keepAliveMaxTimeout: idle,
        keepAliveTimeoutThreshold: timings.keepAliveMargin,
        headersTimeout: 0,
        bodyTimeout: 0
      })
      const conn: Connection = { client, completed: 0, closed: false, leased: false }
      client.on("disconnect", () => {
        // an idle connection whose socket closed is destroyed; a busy one is its request's business
        if (conn.leased) return
        conn.closed = true
        const p = pool()
        if (p !== undefined) Effect.runSync(KeyedPool.invalidate(p, conn))
      })
      return conn
    }),
    (conn) => Effect.promise(() => conn.client.destroy().catch(() => undefined))
  )

/**
 * Builds the pool and its `HttpClient` in the current scope.
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const { client } = yield* HttpPool.make({ maxConnectionsPerOrigin: 4 })
 *   const response = yield* client.get("http://127.0.0.1:8080/")
 *   return yield* response.text
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<
  { readonly client: HttpClient.HttpClient; readonly service: Context.Tag.Service<HttpPool> },
  PoolConfigError,
  Scope
> =>
  Effect.gen(function*() {
    const timings = yield* timingsOf(options)
    const tls = options.tls
    const connect = Undici.buildConnector({
      timeout: timings.connectTimeout,
      maxCachedSessions: 100, // one TLS session cache for all connections: resumption
      ...(tls?.ca === undefined ? {} : { ca: tls.ca as any }),
      ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls?.key === undefined ? {} : { key: tls.key }),
      ...(tls?.servername === undefined ? {} : { servername: tls.servername }),
      rejectUnauthorized: tls?.rejectUnauthorized ?? true
    } as Undici.buildConnector.BuildOptions)
    let pool: KeyedPool.KeyedPool<string, Connection> | undefined
    const perOrigin = options.maxConnectionsPerOrigin ?? 10
    pool = yield* KeyedPool.make<string, Connection>({
      name: options.name ?? "http",
      acquire: (origin) => connection(origin, timings, connect, () => pool),
      maxPerKey: perOrigin,
      maxIdle: options.maxIdlePerOrigin ?? perOrigin,
      maxIdleTotal: options.maxIdleTotal ?? 100,
      maxTotal: options.maxConnectionsTotal,
      idleTimeout: options.idleTimeout ?? "90 seconds",
      acquireTimeout: options.acquireTimeout,
      maxLifetime: options.maxLifetime,
      idleKeyTimeout: options.idleOriginTimeout ?? "5 minutes",
      order: "lifo"
    }).pipe(Effect.mapError((error) =>
      new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })
    ))
    const p = pool
    return {
      client: NodeHttpClient.makeUndici(new PoolDispatcher(p)),
      service: {
        pool: p,
        stats: KeyedPool.stats(p),
        closeIdle: KeyedPool.evictIdle(p)
      }
    }
  })

/**
 * A layer providing @effect/platform's `HttpClient` (so `HttpClient.get`, request builders,
 * response schemas and retries work unchanged) and `HttpPool`. Bad options fail it with
 * `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const response = yield* HttpClient.get("https://example.com/")
 *   return yield* response.text
 * }).pipe(Effect.scoped, Effect.provide(HttpPool.layer({ maxConnectionsPerOrigin: 8 })))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient | HttpPool, PoolConfigError> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, service }) =>
      Context.make(HttpClient.HttpClient, client).pipe(Context.add(HttpPool, service)))
  )

/**
 * `layer` with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 * import { Config } from "effect"
 *
 * const HttpLive = HttpPool.layerConfig({
 *   maxConnectionsPerOrigin: Config.integer("HTTP_MAX_CONNS").pipe(Config.withDefault(10))
 * })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<HttpClient.HttpClient | HttpPool, ConfigError.ConfigError | PoolConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
