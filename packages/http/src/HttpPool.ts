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
import * as crypto from "node:crypto"
import * as nodeTls from "node:tls"
import { type Connection, PoolDispatcher } from "./internal/dispatcher.js"

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

/** Our option names. */
const KNOWN = [
  "name",
  "maxConnectionsPerOrigin",
  "maxIdlePerOrigin",
  "maxIdleTotal",
  "maxConnectionsTotal",
  "idleTimeout",
  "keepAliveMargin",
  "connectTimeout",
  "acquireTimeout",
  "maxLifetime",
  "idleOriginTimeout",
  "tls"
] as const
const TLS_KNOWN = ["ca", "cert", "key", "servername", "rejectUnauthorized"] as const

/**
 * Other libraries' names for our options (undici's `Agent`/`Pool`/`Client`, Go's
 * `http.Transport`, the core's): not accepted — the error names ours, so that nothing a user
 * copied from elsewhere is silently read with another meaning or ignored.
 */
const ALIASES: Record<string, string> = {
  connections: "maxConnectionsPerOrigin",
  maxConnection: "maxConnectionsPerOrigin",
  maxConnections: "maxConnectionsPerOrigin",
  maxConection: "maxConnectionsPerOrigin",
  maxConections: "maxConnectionsPerOrigin",
  maxConnectionsPerHost: "maxConnectionsPerOrigin",
  keepAliveTimeout: "idleTimeout",
  keepAliveMaxTimeout: "idleTimeout",
  keepAliveTimeoutThreshold: "keepAliveMargin",
  connect: "tls",
  max: "maxConnectionsPerOrigin",
  maxPerKey: "maxConnectionsPerOrigin",
  maxIdle: "maxIdlePerOrigin",
  maxTotal: "maxConnectionsTotal",
  idleKeyTimeout: "idleOriginTimeout",
  maxConnsPerHost: "maxConnectionsPerOrigin",
  maxIdleConnsPerHost: "maxIdlePerOrigin",
  maxIdleConns: "maxIdleTotal",
  idleConnTimeout: "idleTimeout",
  tlsClientConfig: "tls"
}
/** undici options we do not have at all, with why. */
const UNSUPPORTED: Record<string, string> = {
  pipelining: "is not supported: each connection carries one request at a time (HTTP/1.1 without pipelining)",
  allowH2: "is not supported: connections are HTTP/1.1",
  socketPath: "is not supported: connections are TCP (+ TLS) to the request's origin",
  proxy: "is not supported: requests go straight to their origin (no proxy is used, HTTP(S)_PROXY is not read)",
  headersTimeout: "is not an option here; bound a request with Effect.timeout",
  bodyTimeout: "is not an option here; bound a request with Effect.timeout",
  maxRedirections: "is not supported: HttpPool never follows redirects (see the README)",
  rejectUnauthorized: "is not an option here; use \"tls.rejectUnauthorized\"",
  ca: "is not an option here; use \"tls.ca\"",
  cert: "is not an option here; use \"tls.cert\"",
  key: "is not an option here; use \"tls.key\"",
  servername: "is not an option here; use \"tls.servername\""
}

/** The core's option names, as users of this package know them (errors from core's own checks). */
const optionNames: Record<string, string> = {
  maxPerKey: "maxConnectionsPerOrigin",
  max: "maxConnectionsPerOrigin",
  maxIdle: "maxIdlePerOrigin",
  maxTotal: "maxConnectionsTotal",
  maxIdleTotal: "maxIdleTotal",
  idleKeyTimeout: "idleOriginTimeout"
}

type Pem = string | Buffer

/** The validated options, in ms where durations (Infinity = none). */
interface Parsed {
  readonly name: string
  readonly maxConnectionsPerOrigin: number
  readonly maxIdlePerOrigin: number
  readonly maxIdleTotal: number
  readonly maxConnectionsTotal: number
  readonly idleTimeout: number
  readonly keepAliveMargin: number
  readonly connectTimeout: number
  readonly acquireTimeout: number
  readonly maxLifetime: number
  readonly idleOriginTimeout: number
  readonly tls: {
    readonly ca: Pem | ReadonlyArray<Pem> | undefined
    readonly cert: Pem | undefined
    readonly key: Pem | undefined
    readonly servername: string | undefined
    readonly rejectUnauthorized: boolean
  }
}

const isPem = (value: unknown): value is Pem => typeof value === "string" || Buffer.isBuffer(value)

const pem = (check: OptionCheck.Checker, option: string, value: unknown): Pem | undefined => {
  if (value === undefined) return undefined
  if (!isPem(value)) {
    return check.fail(option, `must be a PEM string or a Buffer, got ${OptionCheck.describeValue(value)}`)
  }
  if (value.length === 0) return check.fail(option, "must not be empty")
  return value
}

/** `null` is not "not given" (a JSON or Config null would otherwise quietly mean the default). */
const rejectNull = (check: OptionCheck.Checker, input: object | undefined, prefix: string): void => {
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === null) check.fail(prefix + key, "must not be null (leave it out for the default)")
  }
}

const parseTls = (check: OptionCheck.Checker, input: unknown): Parsed["tls"] => {
  const tls = check.record("tls", input)
  check.known(tls, TLS_KNOWN, { sni: "servername", verify: "rejectUnauthorized" }, "tls.")
  rejectNull(check, tls, "tls.")
  let ca: Pem | ReadonlyArray<Pem> | undefined
  const caInput = tls?.ca
  if (Array.isArray(caInput)) {
    if (caInput.length === 0) check.fail("tls.ca", "must not be an empty array")
    ca = caInput.map((entry, i) =>
      pem(check, `tls.ca[${i}]`, entry) ?? check.fail(`tls.ca[${i}]`, "must be a PEM string or a Buffer, got undefined")
    )
  } else {
    ca = pem(check, "tls.ca", caInput)
  }
  // Node accepts any text as a CA and then verifies against nothing: read each one here
  for (const [i, entry] of (ca === undefined ? [] : Array.isArray(ca) ? ca : [ca]).entries()) {
    const option = Array.isArray(ca) ? `tls.ca[${i}]` : "tls.ca"
    if (!String(entry).includes("-----BEGIN CERTIFICATE-----")) check.fail(option, "is not a PEM certificate")
    try {
      new crypto.X509Certificate(entry)
    } catch (e) {
      check.fail(option, `is not a valid certificate: ${(e as Error).message}`)
    }
  }
  const cert = pem(check, "tls.cert", tls?.cert)
  const key = pem(check, "tls.key", tls?.key)
  if (cert !== undefined && key === undefined) check.fail("tls.key", "is required with tls.cert")
  if (key !== undefined && cert === undefined) check.fail("tls.cert", "is required with tls.key")
  if (cert !== undefined && key !== undefined) {
    try {
      nodeTls.createSecureContext({ cert, key })
    } catch (e) {
      check.fail("tls.cert", `and tls.key cannot be used: ${(e as Error).message}`)
    }
  }
  const servername = check.string("tls.servername", tls?.servername, undefined, { nonEmpty: true })
  const rejectUnauthorized = check.boolean("tls.rejectUnauthorized", tls?.rejectUnauthorized, true)
  return { ca, cert, key, servername, rejectUnauthorized }
}

const parse = (options: unknown): Either.Either<Parsed, PoolConfigError> => {
  const poolName = typeof (options as Options | undefined)?.name === "string" ? (options as Options).name! : "http"
  return OptionCheck.run(poolName, (check) => {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      check.fail("options", `must be an object, got ${OptionCheck.describeValue(options)}`)
    }
    const input = options as Record<string, unknown>
    for (const key of Object.keys(input)) {
      if (input[key] !== undefined && UNSUPPORTED[key] !== undefined) check.fail(key, UNSUPPORTED[key]!)
    }
    check.known(input, KNOWN, ALIASES)
    rejectNull(check, input, "")
    const name = check.string("name", input.name, "http", { nonEmpty: true })
    const perOrigin = check.integer("maxConnectionsPerOrigin", input.maxConnectionsPerOrigin, 10, { min: 1, infinity: true })
    const maxIdlePerOrigin = check.integer("maxIdlePerOrigin", input.maxIdlePerOrigin, perOrigin, { min: 0, infinity: true })
    const maxIdleTotal = check.integer("maxIdleTotal", input.maxIdleTotal, 100, { min: 0, infinity: true })
    const maxConnectionsTotal = check.integer("maxConnectionsTotal", input.maxConnectionsTotal, Infinity, {
      min: 1,
      infinity: true
    })
    return {
      name,
      maxConnectionsPerOrigin: perOrigin,
      maxIdlePerOrigin,
      maxIdleTotal,
      maxConnectionsTotal,
      // 0 would close a connection before it could be reused: "keep none" is maxIdlePerOrigin: 0
      idleTimeout: check.duration("idleTimeout", input.idleTimeout, "90 seconds", { zero: "reject" }),
      keepAliveMargin: check.duration("keepAliveMargin", input.keepAliveMargin, "1 second", { zero: "allow" }),
      // as undici's connectTimeout: 0 is no timeout
      connectTimeout: check.duration("connectTimeout", input.connectTimeout, "10 seconds", { zero: "none" }),
      // 0 would fail every request that needs a new connection
      acquireTimeout: check.duration("acquireTimeout", input.acquireTimeout, "30 seconds", { zero: "reject" }),
      // 0 would make every connection expire before its first request
      maxLifetime: check.duration("maxLifetime", input.maxLifetime, Infinity, { zero: "reject" }),
      idleOriginTimeout: check.duration("idleOriginTimeout", input.idleOriginTimeout, "5 minutes", { zero: "allow" }),
      tls: parseTls(check, input.tls)
    }
  })
}

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
    (conn) => Effect.promise(() => conn.client.destroy().catch(() => undefined))
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
