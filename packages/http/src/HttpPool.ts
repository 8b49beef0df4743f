/**
 * `HttpPool`: keep-alive HTTP/1.1 connections pooled per origin by `@effect-pool/core`, served
 * as @effect/platform's `HttpClient`. What Go's `http.Transport` gives — connection reuse per
 * host with limits and idle timeouts — plus a cap across origins, per-origin stats, and a safe
 * retry of idempotent requests that hit a connection the server had just closed.
 *
 * @since 0.1.0
 */
import { KeyedPool, OptionCheck, type Pool, PoolConfigError } from "@effect-pool/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type { Scope } from "effect/Scope"
import { type Connection, PoolDispatcher } from "./internal/dispatcher.js"
import { optionNames, parse as parseOptions, type Parsed, poolNameOf } from "@effect-pool/engine/http/options"

/**
 * Options of `HttpPool.layer`; defaults in brackets (Go's `http.Transport` names in parentheses).
 * Every option is checked when the layer is built: a wrong type, `null`, an out-of-range value or
 * an unknown key (also undici's and Go's names, which the error maps to ours) is a
 * `PoolConfigError` naming it.
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
  /** Most connections per origin (MaxConnsPerHost); more requests wait. Whole ≥ 1 or Infinity. [10] */
  readonly maxConnectionsPerOrigin?: number | undefined
  /** Most idle connections kept per origin (MaxIdleConnsPerHost); 0 keeps none. Whole ≥ 0 or Infinity. [maxConnectionsPerOrigin] */
  readonly maxIdlePerOrigin?: number | undefined
  /** Most idle connections kept across origins (MaxIdleConns). Whole ≥ 0 or Infinity. [100] */
  readonly maxIdleTotal?: number | undefined
  /** Most connections across origins; at the cap another origin's oldest idle connection is closed to make room. [Infinity] */
  readonly maxConnectionsTotal?: number | undefined
  /** Idle connections are closed after this (IdleConnTimeout) — sooner when the server's `Keep-Alive: timeout=` hint says so. > 0; Infinity: never for idleness. [90 s] */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** How long before the server's Keep-Alive timeout a connection stops being reused. ≥ 0; Infinity: a connection whose server announced a timeout is not reused. [1 s] */
  readonly keepAliveMargin?: Duration.DurationInput | undefined
  /** Longest a TCP (+ TLS) connect may take. 0 or Infinity: no timeout (as undici's). [10 s] */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Longest a request waits for a connection of its origin. > 0; Infinity: no limit. [30 s] */
  readonly acquireTimeout?: Duration.DurationInput | undefined
  /** Connections are replaced after this long. > 0; Infinity: never. [Infinity] */
  readonly maxLifetime?: Duration.DurationInput | undefined
  /** Idle origins are forgotten after this. ≥ 0; Infinity: never. [5 min] */
  readonly idleOriginTimeout?: Duration.DurationInput | undefined
  /**
   * TLS settings; certificates are always verified (against the URL's host or `servername`, never
   * a `Host` header) unless `rejectUnauthorized: false` is given. Other keys are rejected. TLS
   * sessions are reused across connections.
   */
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

const parse = (options: unknown): Either.Either<Parsed, PoolConfigError> =>
  OptionCheck.run(poolNameOf(options), (check) => parseOptions(check, options, { http2: false }))

/** A finite delay for undici's own timers (`setTimeout`, which fires at once past 2³¹−1 ms). */
const undiciMillis = (ms: number): number => Math.min(ms, OptionCheck.MAX_TIMER_MILLIS)

/** A connection: one undici Client, destroyed with its item; a closed socket invalidates it. */
const connection = (
  origin: string,
  options: Parsed,
  connect: Undici.buildConnector.connector,
  item: Pool.ItemHandle
): Effect.Effect<Connection, never, Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      // undici's keep-alive timer is a plain setTimeout: never past 2³¹−1 ms (it would fire at once)
      const idle = undiciMillis(options.idleTimeout)
      const client = new Undici.Client(origin, {
        connect,
        pipelining: 1,
        // undici closes an idle socket at min(this, the server's Keep-Alive hint - margin)
        keepAliveTimeout: idle,
        keepAliveMaxTimeout: idle,
        keepAliveTimeoutThreshold: undiciMillis(options.keepAliveMargin),
        headersTimeout: 0,
        bodyTimeout: 0
      })
      const conn: Connection = { client, completed: 0, closed: false }
      client.on("disconnect", () => {
        // an idle connection whose socket closed is destroyed; a busy one is its request's business
        if (item.borrowers > 0) return
        conn.closed = true
        item.invalidate()
      })
      return conn
    }),
    // destroyed after the current call stack: an error undici reports while it writes a request
    // (a body iterable that throws) reaches us inside its own dispatch loop, and a Client destroyed
    // there, re-entrantly, is left counting a pending request (undici's assertion then crashes
    // the process on its next resume)
    (conn) => Effect.promise(() => Promise.resolve().then(() => conn.client.destroy()).catch(() => undefined))
  )

/**
 * The connector of every connection. The certificate is always checked against the origin's
 * host (or `tls.servername`), never against a request's `Host` header: undici would otherwise
 * take the TLS name (SNI and verification) from that header.
 */
const connectorOf = (options: Parsed): Undici.buildConnector.connector => {
  const tls = options.tls
  const connectMs = options.connectTimeout
  const base = Undici.buildConnector({
    // undici's 0 is "no timeout"
    timeout: OptionCheck.timerMillis(connectMs) ?? 0,
    maxCachedSessions: 100, // one TLS session cache for all connections: resumption
    ...(tls.ca === undefined ? {} : { ca: tls.ca as any }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.rejectUnauthorized
  } as Undici.buildConnector.BuildOptions)
  return (opts, callback) => base({ ...opts, servername: tls.servername ?? null } as any, callback)
}

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
    const parsed = yield* parse(options)
    const connect = connectorOf(parsed)
    // only keys core knows, from validated values (never the user's object)
    const pool = yield* KeyedPool.make<string, Connection>({
      name: parsed.name,
      acquire: (origin, item) => connection(origin, parsed, connect, item),
      maxPerKey: parsed.maxConnectionsPerOrigin,
      maxIdle: parsed.maxIdlePerOrigin,
      maxIdleTotal: parsed.maxIdleTotal,
      maxTotal: parsed.maxConnectionsTotal,
      idleTimeout: Duration.millis(parsed.idleTimeout),
      acquireTimeout: Duration.millis(parsed.acquireTimeout),
      maxLifetime: Duration.millis(parsed.maxLifetime),
      idleKeyTimeout: Duration.millis(parsed.idleOriginTimeout),
      order: "lifo"
    }).pipe(Effect.mapError((error) =>
      new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })
    ))
    return {
      client: NodeHttpClient.makeUndici(new PoolDispatcher(pool, parsed.tls.servername)),
      service: {
        pool,
        stats: KeyedPool.stats(pool),
        closeIdle: KeyedPool.evictIdle(pool)
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
