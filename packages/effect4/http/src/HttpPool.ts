/**
 * `HttpPool`: HTTP/1.1 keep-alive connections and HTTP/2 multiplexed connections, pooled per
 * origin by `@effect-pool/core`, served as Effect 4's `HttpClient` (`effect/http/HttpClient`).
 * A drop-in for @effect/platform-node's `NodeHttpClient.layerUndici`, plus a connection cap
 * across origins, per-origin stats and metrics, the server's Keep-Alive hint, and a safe retry
 * of idempotent requests that hit a connection the server had just closed.
 *
 * @since 4.0.0
 */
import { KeyedPool, OptionCheck, type Pool, PoolConfigError } from "@effect-pool/core"
import * as EngineOptions from "@effect-pool/engine/options"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type { Scope } from "effect/Scope"
import { buildConnector, Client } from "undici"
import { type Connection, type Lease, PoolDispatcher, undiciMaxStreams } from "./internal/dispatch.js"
import { optionNames, parse, type Parsed, poolNameOf } from "@effect-pool/engine/http/options"

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
 * @since 4.0.0
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
  readonly idleTimeout?: Duration.Input | undefined
  /** How long before the server's Keep-Alive timeout a connection stops being reused. ≥ 0; Infinity: a connection whose server announced a timeout is not reused. [1 s] */
  readonly keepAliveMargin?: Duration.Input | undefined
  /** Longest a TCP (+ TLS) connect may take. 0 or Infinity: no timeout (as undici's). [10 s] */
  readonly connectTimeout?: Duration.Input | undefined
  /** Longest a request waits for a connection of its origin. > 0; Infinity: no limit. [30 s] */
  readonly acquireTimeout?: Duration.Input | undefined
  /** Connections are replaced after this long. > 0; Infinity: never. [Infinity] */
  readonly maxLifetime?: Duration.Input | undefined
  /** Idle origins are forgotten after this. ≥ 0; Infinity: never. [5 min] */
  readonly idleOriginTimeout?: Duration.Input | undefined
  /** Offer HTTP/2 by ALPN on `https:` (undici's `allowH2`); a server that picks it gets one connection with many streams. [true] */
  readonly http2?: boolean | undefined
  /** Most streams one HTTP/2 connection carries; the server's SETTINGS_MAX_CONCURRENT_STREAMS lowers it (undici's `maxConcurrentStreams`). [100] */
  readonly maxStreamsPerConnection?: number | undefined
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
 * @since 4.0.0
 * @category services
 */
export class HttpPool extends Context.Service<HttpPool, {
  readonly stats: Effect.Effect<KeyedPool.KeyedPoolStats<string>>
  /** Closes every idle connection (Go's CloseIdleConnections). */
  readonly closeIdle: Effect.Effect<void>
  /** The protocol each origin's connections speak, once known ("h1" or "h2"). */
  readonly protocols: Effect.Effect<ReadonlyMap<string, "h1" | "h2">>
  readonly pool: KeyedPool.KeyedPool<string, Connection>
}>()("@effect-pool/http/HttpPool") {}

const parseOptions = (options: unknown): Effect.Effect<Parsed, PoolConfigError> =>
  Effect.suspend(() => Effect.fromResult(OptionCheck.run(poolNameOf(options), (check) => parse(check, options, { http2: true }))))

/** A finite delay for undici's own timers (`setTimeout`, which fires at once past 2³¹−1 ms). */
const undiciMillis = (ms: number): number => Math.min(ms, EngineOptions.MAX_TIMER_MILLIS)

type Connector = buildConnector.connector

/** A connection: one undici Client, destroyed with its item; a closed idle socket invalidates it. */
const connection = (
  origin: string,
  options: Parsed,
  connect: Connector,
  item: Pool.ItemHandle
): Effect.Effect<Connection, never, Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const idle = undiciMillis(options.idleTimeout)
      // ALPN tells h1 from h2 when the socket connects, before undici writes a request
      const connector: Connector = (opts, callback) =>
        connect(opts, (error, socket) => {
          if (error === null && conn.protocol === "unknown") {
            conn.protocol = (socket as { alpnProtocol?: string | false }).alpnProtocol === "h2" ? "h2" : "h1"
            try {
              conn.onProtocol?.()
            } catch {
              // never into undici
            }
          }
          callback(error as any, socket as any)
        })
      const client = new Client(origin, {
        connect: connector,
        pipelining: 1,
        allowH2: options.http2,
        h2Options: { maxConcurrentStreams: options.maxStreamsPerConnection },
        // undici closes an idle socket at min(this, the server's Keep-Alive hint - margin)
        keepAliveTimeout: idle,
        keepAliveMaxTimeout: idle,
        keepAliveTimeoutThreshold: undiciMillis(options.keepAliveMargin),
        headersTimeout: 0,
        bodyTimeout: 0
      })
      const conn: Connection = {
        client,
        protocol: origin.startsWith("https:") && options.http2 ? "unknown" : "h1",
        completed: 0,
        closed: false,
        maxStreams: () => undiciMaxStreams(client, options.maxStreamsPerConnection),
        onProtocol: undefined
      }
      client.on("disconnect", () => {
        if (item.borrowers > 0) {
          // an h2 session that ended with streams still open (GOAWAY, socket closed): no new
          // streams on it — undici would queue them behind the old session's last one. Its lane
          // retires and goes with that stream; new requests take another connection. A busy h1
          // connection is its request's business
          if (conn.protocol === "h2") conn.closed = true
          return
        }
        // an idle connection whose socket closed is destroyed
        conn.closed = true
        item.invalidate()
      })
      return conn
    }),
    // destroyed after the current call stack: an error undici reports while it writes a request
    // (a body iterable that throws) reaches us inside its own dispatch loop, and a Client destroyed
    // there, re-entrantly, is left counting a pending request (undici's assertion then crashes
    // the process on its next resume)
    (conn) => Effect.promise(() => Promise.resolve().then(() => (conn.client as Client).destroy()).catch(() => undefined))
  )

/**
 * The connector of every connection. The certificate is always checked against the origin's
 * host (or `tls.servername`), never against a request's `Host` header: undici would otherwise
 * take the TLS name (SNI and verification) from that header.
 */
const connectorOf = (options: Parsed): Connector => {
  const tls = options.tls
  const base = buildConnector({
    // undici's 0 is "no timeout"
    timeout: EngineOptions.timerMillis(options.connectTimeout) ?? 0,
    allowH2: options.http2,
    maxCachedSessions: 100, // one TLS session cache for all connections: resumption
    ...(tls.ca === undefined ? {} : { ca: tls.ca as any }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.rejectUnauthorized
  } as buildConnector.BuildOptions)
  return (opts, callback) => base({ ...opts, servername: tls.servername ?? null } as any, callback)
}

/** A borrow waits for another connection however many turn out closed (each was never used). */
const RETRY_FOREVER = { retries: Infinity }

const asError = (cause: Cause.Cause<unknown>): Error => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error : new Error(String(error))
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
 * @since 4.0.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<
  { readonly client: HttpClient.HttpClient; readonly service: HttpPool["Service"] },
  PoolConfigError,
  Scope
> =>
  Effect.gen(function*() {
    const parsed = yield* parseOptions(options)
    const connect = connectorOf(parsed)
    // only keys core knows, from validated values (never the user's object)
    const pool = yield* KeyedPool.make<string, Connection>({
      name: parsed.name,
      acquire: (origin: string, item: Pool.ItemHandle) => connection(origin, parsed, connect, item),
      maxPerKey: parsed.maxConnectionsPerOrigin,
      maxIdle: parsed.maxIdlePerOrigin,
      maxIdleTotal: parsed.maxIdleTotal,
      maxTotal: parsed.maxConnectionsTotal,
      idleTimeout: Duration.millis(parsed.idleTimeout),
      acquireTimeout: Duration.millis(parsed.acquireTimeout),
      maxLifetime: Duration.millis(parsed.maxLifetime),
      idleKeyTimeout: Duration.millis(parsed.idleOriginTimeout),
      order: "lifo"
    }).pipe(Effect.mapError((error: PoolConfigError) =>
      new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })
    ))
    const dispatcher = new PoolDispatcher(
      (origin, lent) =>
        KeyedPool.unsafeBorrow(pool, origin, (held, failure) =>
          lent(held as Lease | undefined, failure === undefined ? undefined : asError(failure)), RETRY_FOREVER) as unknown as Lease,
      parsed.tls.servername
    )
    const client = yield* NodeHttpClient.makeUndici.pipe(Effect.provideService(NodeHttpClient.Dispatcher, dispatcher))
    return {
      client,
      service: {
        pool,
        stats: KeyedPool.stats(pool),
        closeIdle: KeyedPool.evictIdle(pool),
        protocols: Effect.sync(() => dispatcher.protocols())
      }
    }
  })

/**
 * A layer providing Effect 4's `HttpClient` (so `HttpClient.get`, request builders, response
 * schemas and retries work unchanged) and `HttpPool`. Bad options fail it with
 * `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { HttpPool } from "@effect-pool/http"
 * import { Effect } from "effect"
 * import { HttpClient } from "effect/http"
 *
 * const program = Effect.gen(function*() {
 *   const response = yield* HttpClient.get("https://example.com/")
 *   return yield* response.text
 * }).pipe(Effect.provide(HttpPool.layer({ maxConnectionsPerOrigin: 8 })))
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient | HttpPool, PoolConfigError> =>
  Layer.effectContext(
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
 *   maxConnectionsPerOrigin: Config.Int("HTTP_MAX_CONNS").pipe(Config.withDefault(10))
 * })
 * ```
 * @since 4.0.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Wrap<Options>
): Layer.Layer<HttpClient.HttpClient | HttpPool, Config.ConfigError | PoolConfigError> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layer))
