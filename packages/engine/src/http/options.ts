/**
 * The options of `HttpPool.layer`, both editions: checked with the engine's validators (no
 * `effect` import: the edition passes its checker, which knows its `Duration` inputs). The
 * Effect 3 edition speaks HTTP/1.1 only, so its options have no `http2` /
 * `maxStreamsPerConnection` (see `Features`).
 *
 * @internal
 */
import type { Checker } from "../options.js"
import { describeValue, nameOf } from "../options.js"
import * as crypto from "node:crypto"
import * as nodeTls from "node:tls"

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
/** The options only an edition that speaks HTTP/2 has. */
const H2_KNOWN = ["http2", "maxStreamsPerConnection"] as const
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
/** undici's names for the HTTP/2 options (with HTTP/2 only). */
const H2_ALIASES: Record<string, string> = {
  allowH2: "http2",
  maxConcurrentStreams: "maxStreamsPerConnection"
}
/** undici options we do not have at all, with why. */
const UNSUPPORTED: Record<string, string> = {
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

/** What differs between an edition with HTTP/2 and one without. */
const UNSUPPORTED_H2: Record<string, string> = {
  pipelining: "is not supported: an HTTP/1.1 connection carries one request at a time (no pipelining); HTTP/2 multiplexes"
}
const UNSUPPORTED_H1: Record<string, string> = {
  pipelining: "is not supported: each connection carries one request at a time (HTTP/1.1 without pipelining)",
  allowH2: "is not supported: connections are HTTP/1.1"
}

/** What the edition's HTTP client speaks. */
export interface Features {
  /** HTTP/2 (the `http2` and `maxStreamsPerConnection` options); without it, HTTP/1.1 only. */
  readonly http2: boolean
}

/** The core's option names, as users of this package know them (errors from core's own checks). */
export const optionNames: Record<string, string> = {
  maxPerKey: "maxConnectionsPerOrigin",
  max: "maxConnectionsPerOrigin",
  maxIdle: "maxIdlePerOrigin",
  maxTotal: "maxConnectionsTotal",
  maxIdleTotal: "maxIdleTotal",
  idleKeyTimeout: "idleOriginTimeout"
}

type Pem = string | Buffer

/** The validated options, in ms where durations (Infinity = none). */
export interface Parsed {
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
  readonly http2: boolean
  readonly maxStreamsPerConnection: number
  readonly tls: {
    readonly ca: Pem | ReadonlyArray<Pem> | undefined
    readonly cert: Pem | undefined
    readonly key: Pem | undefined
    readonly servername: string | undefined
    readonly rejectUnauthorized: boolean
  }
}

const isPem = (value: unknown): value is Pem => typeof value === "string" || Buffer.isBuffer(value)

const pem = (check: Checker<any>, option: string, value: unknown): Pem | undefined => {
  if (value === undefined) return undefined
  if (!isPem(value)) {
    return check.fail(option, `must be a PEM string or a Buffer, got ${describeValue(value)}`)
  }
  if (value.length === 0) return check.fail(option, "must not be empty")
  return value
}

/** `null` is not "not given" (a JSON or Config null would otherwise quietly mean the default). */
const rejectNull = (check: Checker<any>, input: object | undefined, prefix: string): void => {
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === null) check.fail(prefix + key, "must not be null (leave it out for the default)")
  }
}

const parseTls = (check: Checker<any>, input: unknown): Parsed["tls"] => {
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

/** The pool name errors are reported under (the `name` option when it is a string). */
export const poolNameOf = (options: unknown): string => nameOf(options, "http")

/**
 * Parses `options` with `check` (an edition's checker); throws the engine's `OptionInvalid`.
 * Without `features.http2`, `http2` is `false` and the HTTP/2 options are not known.
 */
export const parse = (check: Checker<any>, options: unknown, features: Features): Parsed => {
  {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      check.fail("options", `must be an object, got ${describeValue(options)}`)
    }
    // every option read once, into a copy (a getter that throws is that option's error)
    const input = check.record("options", options)!
    const unsupported = features.http2 ? UNSUPPORTED_H2 : UNSUPPORTED_H1
    for (const key of Object.keys(input)) {
      // own keys only: `__proto__`, `constructor` are no one's options
      const why = Object.hasOwn(unsupported, key) ? unsupported[key] : Object.hasOwn(UNSUPPORTED, key) ? UNSUPPORTED[key] : undefined
      if (input[key] !== undefined && why !== undefined) check.fail(key, why)
    }
    if (features.http2) check.known(input, [...KNOWN, ...H2_KNOWN], { ...ALIASES, ...H2_ALIASES })
    else check.known(input, KNOWN, ALIASES)
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
      http2: features.http2 && check.boolean("http2", input.http2, true),
      maxStreamsPerConnection: features.http2
        ? check.integer("maxStreamsPerConnection", input.maxStreamsPerConnection, 100, { min: 1, max: 2 ** 31 - 1 })
        : 1,
      tls: parseTls(check, input.tls)
    }
  }
}

