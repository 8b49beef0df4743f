/**
 * `PgPool.Options` → the config of each @effect/sql-pg `PgConnection` and the options of the core
 * pool, validated up front with the engine's checks (`@effect-pool/engine` Options). Nothing
 * reaches a connection attempt that could only fail there: a bad URL, sslmode, startup parameter
 * or key fails the layer at once, naming the option.
 *
 * @internal
 */
import { OptionCheck } from "@effect-pool/core"
import { Options as Checks } from "@effect-pool/engine"
import type { PgConnection } from "@effect/sql-pg"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import { type HostPort, parseTarget, type Target, urlFor } from "@effect-pool/engine/pg/hosts"
import { startupValueProblem } from "@effect-pool/engine/pg/startup"

type Checker = Checks.Checker<Duration.Input>

const checker: Checker = Checks.makeChecker<Duration.Input>({
  decode: (input) => {
    // Effect 4 reads `{}` as a duration of 0 (an object of parts, none given): not a duration here
    if (typeof input === "object" && input !== null && !Duration.isDuration(input) && !Array.isArray(input) && Object.keys(input).length === 0) return undefined
    const decoded = Duration.fromInput(input as Duration.Input)
    return decoded._tag === "None" ? undefined : Duration.toMillis(decoded.value)
  }
})

/** A failed check: the option and why (made a `PoolConfigError` by the caller). */
export interface Invalid {
  readonly option: string
  readonly reason: string
}

/** Runs a parse with the engine's checks; the first failing one is returned as `Invalid`. */
export const run = <A>(f: (check: Checker) => A): { readonly ok: true; readonly value: A } | ({ readonly ok: false } & Invalid) => {
  const result = Checks.checkWith(checker, f)
  return result._tag === "Valid" ? { ok: true, value: result.value } : { ok: false, option: result.option, reason: result.reason }
}

/** @effect/sql-pg 4's `PgClientConfig` names for where and how to connect (handed to `PgConnection.make`). */
export const connectionKeys = [
  "url", "host", "port", "path", "ssl", "database", "username", "password", "connectTimeout", "keepAlive",
  "applicationName", "startupParameters", "startupOptions", "stream", "types", "prepare",
  "preparedStatementCacheSize", "maxMessageSize"
] as const

/** The rest of the client's options (@effect/sql-pg's names) and ours. */
export const clientKeys = [
  "multiplex", "multiplexConcurrency", "spanAttributes", "transformResultNames", "transformQueryNames",
  "transformJson", "statementTimeout", "pgbouncer", "healthCheck", "targetSessionAttrs", "loadBalanceHosts"
] as const

/** The options of core's `Pool.make` that `PgPool.Options` passes through. */
export const coreKeys = [
  "name", "min", "max", "acquireTimeout", "createTimeout", "idleTimeout", "maxLifetime", "maxLifetimeJitter",
  "maxUses", "maxWaiters", "maxIdle", "order", "validateAfterIdle", "validateTimeout", "recycleTimeout",
  "createRetry", "shutdownTimeout", "destroyTimeout", "leakDetectionThreshold", "spans", "failWaitersOnCreateError"
] as const

/** @effect/sql-pg's `PgPoolConfig` names accepted as the same thing (drop-in): ours on the right. */
export const sqlPgAliases = {
  maxConnections: "max",
  minConnections: "min",
  connectionTTL: "maxLifetime"
} as const

/** Options of the Effect 3 edition that this one names differently: rejected with the new name. */
const renamed: Record<string, string> = {
  prepareThreshold: "is the Effect 3 edition's option: @effect/sql-pg 4 prepares every statement it may (use prepare: false to turn that off)",
  maxPreparedStatements: "is the Effect 3 edition's option: use preparedStatementCacheSize"
}

export const allKeys: ReadonlyArray<string> = [...connectionKeys, ...clientKeys, ...coreKeys, ...Object.keys(sqlPgAliases)]

/** Postgres' INT_MAX: the largest `statement_timeout` (ms) the server accepts. */
export const PG_MAX_TIMEOUT_MS = 2_147_483_647

/** What @effect/sql-pg 4's URL parser accepts for `sslmode` (anything else fails every connect). */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const

export interface Settings {
  /** The config of each pooled connection (`PgConnection.make`). */
  readonly connection: PgConnection.Config
  /** What `PgClient.config` reports: the options as given (drop-in with `PgClient.layer`). */
  readonly reported: Record<string, unknown>
  readonly multiplex: boolean
  readonly multiplexConcurrency: number
  /** With `pgbouncer`, the statement timeout is the client's (an interruption, which cancels). */
  readonly clientStatementTimeout: number | undefined
  readonly connectTimeout: number
  readonly pgbouncer: boolean
  /**
   * More than one host, or a `targetSessionAttrs` other than `any`: each connection tries the
   * hosts and checks the session (`undefined` on the single-host path, which stays as it was).
   */
  readonly target: Target | undefined
  /** The first (on the single-host path, the only) server: `PgPool.stats`'s one host there. */
  readonly firstHost: HostPort
}

const secret = (check: Checker, option: string, value: unknown, effect: boolean): unknown => {
  if (value === undefined) return undefined
  if (Redacted.isRedacted(value)) {
    const inner = Redacted.value(value)
    if (typeof inner !== "string") check.fail(option, `must hold a string, got ${Checks.describeValue(inner)}`)
    return value
  }
  if (effect && Effect.isEffect(value)) return value
  return check.fail(
    option,
    `must be Redacted (Redacted.make(...) or Config.redacted)${effect ? " or an Effect of one" : ""}, got ${
      typeof value === "string" ? "a plain string" : Checks.describeValue(value)
    }`
  )
}

/** The URL as @effect/sql-pg 4 will read it, checked now instead of at every connect. */
interface UrlParts {
  host?: string | undefined
  port?: number | undefined
  database?: string | undefined
  username?: string | undefined
  password?: string | undefined
  sslmode?: string | undefined
  /** `sslrootcert`, `sslcert`, `sslkey` (files, as libpq reads them): the driver ignores them. */
  tlsFiles: { ca?: string; cert?: string; key?: string }
  /** The URL names the application (`application_name`): the driver takes it from there. */
  applicationName?: string | undefined
}

const readPem = (check: Checker, param: string, file: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch (error) {
    return check.fail("url", `${param}: cannot read ${file}: ${(error as Error).message}`)
  }
}

const checkUrl = (check: Checker, raw: string): UrlParts => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return check.fail("url", "is not a valid URL (the value is redacted)")
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    check.fail("url", `must start with postgres:// or postgresql://, got ${url.protocol}//`)
  }
  const decode = (part: string, value: string): string | undefined => {
    if (value === "") return undefined
    try {
      return decodeURIComponent(value)
    } catch {
      return check.fail("url", `its ${part} has malformed %-encoding (the value is redacted)`)
    }
  }
  const portOf = (value: string, where: string): number => {
    const port = Number(value)
    if (!Number.isInteger(port) || port < 1 || port > 65_535) check.fail("url", `${where} must be a port 1–65535, got ${JSON.stringify(value)}`)
    return port
  }
  const parts: UrlParts = {
    tlsFiles: {},
    host: url.hostname === "" ? undefined : url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : decode("host", url.hostname),
    port: url.port === "" ? undefined : portOf(url.port, "its port"),
    database: decode("database", url.pathname.replace(/^\//, "")),
    username: decode("user name", url.username),
    password: decode("password", url.password)
  }
  for (const [key, value] of url.searchParams) {
    if (key === "port") parts.port = portOf(value, "its port parameter")
    if (key === "host") parts.host = value
    if (key === "dbname") parts.database = value
    if (key === "user") parts.username = value
    if (key === "application_name") {
      // a NUL is refused by the driver on every connect: a configuration error, said now
      const problem = startupValueProblem(value)
      if (problem !== undefined) check.fail("url", `its application_name ${problem}`)
      parts.applicationName = value
    }
    if (key === "connect_timeout" && !(Number.isInteger(Number(value)) && Number(value) >= 0 && value.trim() !== "")) {
      check.fail("url", `connect_timeout must be whole seconds ≥ 0, got ${JSON.stringify(value)}`)
    }
    if (key === "sslmode") {
      if (!(SSL_MODES as ReadonlyArray<string>).includes(value)) {
        check.fail("url", `sslmode must be one of ${SSL_MODES.join(", ")}; got ${JSON.stringify(value)}`)
      }
      parts.sslmode = value
    }
    // node-postgres's `ssl=true|1|0|false|no-verify`: @effect/sql-pg 4's driver ignores it (an
    // unknown parameter, as libpq), so `?ssl=true` would connect without TLS — refused, naming sslmode
    if (key === "ssl") {
      check.fail("url", `ssl=${JSON.stringify(value)} is not read by @effect/sql-pg 4's driver (it would connect without TLS): use sslmode=require, verify-full or disable`)
    }
    if (key === "sslrootcert") parts.tlsFiles.ca = readPem(check, key, value)
    if (key === "sslcert") parts.tlsFiles.cert = readPem(check, key, value)
    if (key === "sslkey") parts.tlsFiles.key = readPem(check, key, value)
  }
  return parts
}

const TLS_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["rejectUnauthorized", "boolean"],
  ["servername", "string"],
  ["checkServerIdentity", "function"]
]

const checkSsl = (check: Checker, ssl: unknown): void => {
  if (ssl === undefined || typeof ssl === "boolean") return
  if (typeof ssl === "string") {
    check.fail("ssl", `must be true, false or Node TLS options, got ${JSON.stringify(ssl)} (for an sslmode, put ?sslmode=… in url)`)
  }
  const record = check.record("ssl", ssl)!
  for (const [key, type] of TLS_CHECKS) {
    const value = record[key]
    if (value !== undefined && typeof value !== type) check.fail(`ssl.${key}`, `must be a ${type}, got ${Checks.describeValue(value)}`)
  }
  const pem = (value: unknown): boolean => typeof value === "string" || Buffer.isBuffer(value)
  for (const key of ["ca", "cert", "key"] as const) {
    const value = record[key]
    if (value !== undefined && !(pem(value) || (Array.isArray(value) && value.every((v) => pem(v) || (key === "key" && typeof v === "object" && v !== null))))) {
      check.fail(`ssl.${key}`, `must be a PEM string or Buffer (or an array of them), got ${Checks.describeValue(value)}`)
    }
  }
}

/**
 * The url's `sslmode` and the `ssl` option may refine each other but never contradict: the
 * driver takes `ssl` over the url, so `sslmode=require` with `ssl: false` would be plaintext and
 * `sslmode=verify-full` with `rejectUnauthorized: false` an unverified server (the Effect 3
 * edition's rule, which node-postgres's URL parameters follow).
 */
const checkTlsAgrees = (check: Checker, sslmode: string | undefined, ssl: unknown): void => {
  if (sslmode === undefined || ssl === undefined) return
  if (sslmode === "disable") {
    if (ssl !== false) check.fail("ssl", "contradicts the url's sslmode=disable (one turns TLS off, the other on)")
    return
  }
  if (ssl === false) check.fail("ssl", `contradicts the url's sslmode=${sslmode} (one turns TLS on, the other off)`)
  if (typeof ssl === "object" && ssl !== null && (ssl as { readonly rejectUnauthorized?: unknown }).rejectUnauthorized === false) {
    check.fail("ssl", `rejectUnauthorized: false contradicts the url's sslmode=${sslmode}, which verifies the server's certificate`)
  }
}

/** Startup parameters as @effect/sql-pg 4 checks them at connect, checked now. */
const checkStartup = (check: Checker, input: unknown): Record<string, string> | undefined => {
  const record = check.record("startupParameters", input)
  if (record === undefined) return undefined
  for (const [name, value] of Object.entries(record)) {
    const option = `startupParameters.${name}`
    if (typeof value !== "string") check.fail(option, `must be a string, got ${Checks.describeValue(value)}`)
    const key = name.toLowerCase()
    if (["user", "database", "replication", "options"].includes(key)) {
      check.fail(option, `is reserved (use ${key === "user" ? "username" : key === "options" ? "startupOptions" : key === "database" ? "database" : "another client for replication"})`)
    }
    if (name === "" || name.includes("\0") || (value as string).includes("\0")) check.fail(option, "must be non-empty and free of NUL bytes")
    if (key === "client_encoding" && !/^utf-?8$/i.test(value as string)) check.fail(option, "must be UTF8 (the only encoding the driver speaks)")
  }
  return record as Record<string, string>
}

/**
 * Checks every option that is not the core pool's (core checks those itself, through `Pool.make`)
 * and returns the connection settings plus the options to hand `Pool.make`.
 */
export const parse = (given: Record<string, unknown>) =>
  run((check) => {
    // every option read once, into a copy (a getter that throws is that option's error): the
    // pool reads `options` (returned) from here on, never the user's object again
    const options = check.options(given)
    for (const key of Object.keys(options)) {
      if (options[key] !== undefined && Object.hasOwn(renamed, key)) check.fail(key, renamed[key]!)
    }
    check.known(options, allKeys)
    // core's options (and @effect/sql-pg's names for three of them)
    const core: Record<string, unknown> = {}
    for (const key of coreKeys) if (options[key] !== undefined) core[key] = options[key]
    for (const [theirs, ours] of Object.entries(sqlPgAliases)) {
      const value = options[theirs]
      if (value === undefined) continue
      if (core[ours] !== undefined && core[ours] !== value) {
        check.fail(theirs, `is @effect/sql-pg's name for ${ours}, which is also given with another value`)
      }
      core[ours] = value
    }
    // where to connect
    const url = secret(check, "url", options.url, false) as Redacted.Redacted<string> | undefined
    // a libpq host list (h1:5432,h2:5433) is no WHATWG URL: the engine reads it; the driver gets
    // the URL with one host, and each attempt its host and port as options (which win over the URL's)
    const rawUrl = url === undefined ? undefined : Redacted.value(url)
    const parsedTarget = parseTarget({
      url: rawUrl,
      host: options.host,
      port: options.port,
      targetSessionAttrs: options.targetSessionAttrs,
      loadBalanceHosts: options.loadBalanceHosts
    })
    if (parsedTarget._tag === "Invalid") check.fail(parsedTarget.option, parsedTarget.reason)
    const target = (parsedTarget as { readonly value: Target }).value
    // libpq's `postgres://user@/db?host=h` is no WHATWG URL either (a user, no host): rewritten
    // the same way, with the engine's host
    const singleUrl = typeof rawUrl === "string" && (target.hosts.length > 1 || (/[?&]host=/.test(rawUrl) && !URL.canParse(rawUrl)))
      ? urlFor(rawUrl, target.hosts[0]!)
      : rawUrl
    const fromUrl: UrlParts = singleUrl === undefined ? { tlsFiles: {} } : checkUrl(check, singleUrl)
    const multiHost = target.hosts.length > 1 || target.targetSessionAttrs !== "any"
    check.string("path", options.path, undefined, { nonEmpty: true })
    check.string("database", options.database, undefined, { nonEmpty: true })
    const username = check.string("username", options.username, undefined, { nonEmpty: true })
    if (username === undefined && fromUrl.username === undefined && process.env.USER === undefined && process.env.USERNAME === undefined) {
      check.fail("username", "is needed: none in url, none given, and no USER in the environment")
    }
    secret(check, "password", options.password, true)
    checkSsl(check, options.ssl)
    checkTlsAgrees(check, fromUrl.sslmode, options.ssl)
    // a NUL in a startup value is refused by the driver on every connect: said at build
    for (const option of ["applicationName", "startupOptions"] as const) {
      const value = check.string(option, options[option], undefined)
      const problem = startupValueProblem(value)
      if (problem !== undefined) check.fail(option, problem)
    }
    check.func("stream", options.stream)
    const types = check.record("types", options.types)
    if (types !== undefined && !(typeof types === "object")) check.fail("types", "must be a PgTypes registry")
    check.boolean("prepare", options.prepare, true)
    check.integer("preparedStatementCacheSize", options.preparedStatementCacheSize, 100, { min: 0 })
    check.integer("maxMessageSize", options.maxMessageSize, 16 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 })
    // 0 and Infinity: no connect timeout; the pool's Clock-driven createTimeout bounds it past a timer
    const connectTimeout = check.duration("connectTimeout", options.connectTimeout, "10 seconds", { zero: "none" })
    if (options.keepAlive !== undefined) {
      const keepAlive = check.duration("keepAlive", options.keepAlive, "0 millis", { zero: "reject", infinity: "reject" })
      if (keepAlive < 1000 || keepAlive > Checks.MAX_TIMER_MILLIS * 1000) check.fail("keepAlive", `must be between 1 second and ${Checks.MAX_TIMER_MILLIS} seconds`)
    }
    const startup = checkStartup(check, options.startupParameters)
    // the client
    const multiplex = check.boolean("multiplex", options.multiplex, false)
    const multiplexConcurrency = check.integer("multiplexConcurrency", options.multiplexConcurrency, 32, { min: 1, max: 1024 })
    check.record("spanAttributes", options.spanAttributes)
    check.func("transformResultNames", options.transformResultNames)
    check.func("transformQueryNames", options.transformQueryNames)
    check.boolean("transformJson", options.transformJson, true)
    // core's shape without its check (SELECT 1 is the pool's): { schedule, timeout }
    OptionCheck.healthCheck(check, options.healthCheck, { userCheck: false })
    const pgbouncer = check.boolean("pgbouncer", options.pgbouncer, false)
    // 0 and Infinity: none (Postgres' statement_timeout 0); the server takes at most INT_MAX ms
    const statement = check.duration("statementTimeout", options.statementTimeout, Infinity, { zero: "none", max: PG_MAX_TIMEOUT_MS })
    const statementTimeout = statement === Infinity ? undefined : Math.ceil(statement)
    if (statementTimeout !== undefined && startup !== undefined && Object.keys(startup).some((k) => k.toLowerCase() === "statement_timeout")) {
      check.fail("statementTimeout", "is also given as startupParameters.statement_timeout: give one")
    }
    if (pgbouncer && statementTimeout === undefined && startup !== undefined && Object.keys(startup).some((k) => k.toLowerCase() === "statement_timeout")) {
      check.fail("startupParameters.statement_timeout", "is refused by PgBouncer in its startup packet: use statementTimeout (enforced by the client with pgbouncer: true)")
    }

    const connection: Record<string, unknown> = {}
    for (const key of connectionKeys) if (options[key] !== undefined) connection[key] = options[key]
    if (singleUrl !== rawUrl) connection.url = Redacted.make(singleUrl!)
    if (multiHost) {
      // each attempt sets its own
      delete connection.host
      delete connection.port
    } else {
      // one host given as a list ("h1", ["h1"], port "5432"): the driver takes plain values
      if (options.host !== undefined) connection.host = target.hosts[0]!.host
      if (options.port !== undefined) connection.port = target.hosts[0]!.port
    }
    // ours only when none is given anywhere: the option, the URL's application_name or
    // startupParameters.application_name (what the driver reads when the option is unset)
    const namedElsewhere = fromUrl.applicationName !== undefined ||
      (startup !== undefined && Object.keys(startup).some((k) => k.toLowerCase() === "application_name"))
    if (options.applicationName === undefined && !namedElsewhere) connection.applicationName = "@effect-pool/pg"
    // the driver pipelines a session's statements only when told to
    if (multiplex) connection.multiplex = true
    // @effect/sql-pg defaults to 5 s; ours is 10 s, as the Effect 3 edition's. The pool's
    // createTimeout bounds the attempt too, so an unbounded one here is no hang.
    connection.connectTimeout = Number.isFinite(connectTimeout) && connectTimeout <= Checks.MAX_TIMER_MILLIS
      ? Duration.millis(connectTimeout)
      : Duration.infinity
    // libpq's sslrootcert/sslcert/sslkey, which the driver would ignore (verifying against the
    // system's CAs instead): read at construction into the TLS options, TLS on and verified
    if (Object.keys(fromUrl.tlsFiles).length > 0) {
      if (fromUrl.sslmode === "disable" || options.ssl === false) {
        check.fail(options.ssl === false ? "ssl" : "url", "sslrootcert/sslcert/sslkey contradict TLS being off")
      }
      connection.ssl = { ...(typeof options.ssl === "object" ? options.ssl as object : {}), ...fromUrl.tlsFiles }
    }
    // PgBouncer (transaction mode) has no named statements across transactions
    if (pgbouncer && options.prepare === undefined) connection.prepare = false
    if (statementTimeout !== undefined && !pgbouncer) {
      connection.startupParameters = { ...startup, statement_timeout: String(statementTimeout) }
    }
    // as @effect/sql-pg 4's PgClient.make: its config is the options as given
    const reported: Record<string, unknown> = { ...options }
    return {
      options,
      core,
      settings: {
        connection: connection as PgConnection.Config,
        reported,
        multiplex,
        multiplexConcurrency,
        clientStatementTimeout: pgbouncer ? statementTimeout : undefined,
        connectTimeout,
        pgbouncer,
        target: multiHost ? target : undefined,
        firstHost: target.hosts[0]!
      } satisfies Settings
    }
  })

/** SQLSTATEs and errors that retrying a connection attempt will not fix. */
export const isPermanent = (error: unknown): boolean => {
  const cause = causeOf(error)
  const code = (cause as { code?: unknown })?.code
  if (typeof code !== "string") return false
  return ["28P01", "28000", "3D000", "42501", "08P01"].includes(code) ||
    code.startsWith("ERR_TLS") || code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || code === "CERT_HAS_EXPIRED" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" || code === "UNABLE_TO_GET_ISSUER_CERT"
}

/** The driver's cause under an Effect 4 `SqlError` (its `reason`'s `cause`). */
export const causeOf = (error: unknown): unknown => {
  let current: any = error
  for (let depth = 0; depth < 4 && current !== null && typeof current === "object"; depth++) {
    if (typeof current.code === "string") return current
    current = current.reason ?? current.cause
  }
  return current
}

/** The SQLSTATE of a driver error, if it carries one. */
export const sqlState = (error: unknown): string | undefined => {
  const code = (causeOf(error) as { code?: unknown })?.code
  return typeof code === "string" ? code : undefined
}
