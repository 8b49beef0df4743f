/**
 * Options → `pg.ClientConfig` for each connection, validated up front.
 *
 * @internal
 */
import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import type * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type Pg from "pg"
import type { ConnectionOptions } from "node:tls"
import { readFileSync } from "node:fs"
import { OptionCheck, type PoolConfigError } from "@effect-pool/core"
import type { Options } from "../PgPool.js"
import { parseTarget, type Target, urlFor } from "@effect-pool/engine/pg/hosts"
import { startupValueProblem } from "@effect-pool/engine/pg/startup"

/** The fields of `PgPool.Options` that say where and how to connect (documented there). */
export const connectionInputKeys = [
  "url", "host", "port", "database", "username", "password", "ssl", "applicationName", "connectTimeout",
  "statementTimeout", "pgbouncer", "prepareThreshold", "maxPreparedStatements", "types",
  "targetSessionAttrs", "loadBalanceHosts"
] as const

/** Where and how to connect. */
export type ConnectionInput = Pick<Options, (typeof connectionInputKeys)[number]>

export interface ConnectionSettings {
  /** Config of each pooled connection. */
  readonly client: Pg.ClientConfig
  /** Config used only to open cancel-request connections (same host, port and TLS). */
  readonly cancel: Pg.ClientConfig
  /** What `PgClient.config` reports (password redacted). */
  readonly reported: PgClientConfig
  /** In PgBouncer mode the statement timeout is enforced by the client (with a cancel request). */
  readonly clientStatementTimeout: number | undefined
  readonly connectTimeout: number
  /** Runs after which a statement with parameters becomes a named prepared statement (0: never). */
  readonly prepareThreshold: number
  readonly maxPreparedStatements: number
  /** Every host to try and which session to keep (one host, "any": the single-host path). */
  readonly target: Target
}

/** The single-host path: one host and any session (no state to read, nothing to choose). */
export const isSingle = (target: Target): boolean =>
  target.hosts.length === 1 && target.targetSessionAttrs === "any"

/** pgjdbc's defaults: prepared from the 5th run, 256 statements per session at most. */
const PREPARE_THRESHOLD = 5
const MAX_PREPARED_STATEMENTS = 256

/** Postgres' INT_MAX: the largest `statement_timeout` (ms) the server accepts. */
export const PG_MAX_TIMEOUT_MS = 2_147_483_647

/** The options of core's `Pool.make` that `PgPool.Options` passes through (nothing else reaches it). */
export const coreKeys = [
  "name", "min", "max", "acquireTimeout", "createTimeout", "idleTimeout", "maxLifetime", "maxLifetimeJitter",
  "maxUses", "maxWaiters", "maxIdle", "order", "validateAfterIdle", "validateTimeout", "recycleTimeout",
  "createRetry", "shutdownTimeout", "destroyTimeout", "leakDetectionThreshold", "spans", "failWaitersOnCreateError"
] as const

/** The rest of `PgPool.Options`. */
export const clientKeys = [
  "healthCheck", "transformQueryNames", "transformResultNames", "transformJson", "spanAttributes"
] as const

/**
 * @effect/sql-pg `PgClientConfig` names accepted as the same thing (drop-in): ours on the right.
 * `idleTimeout`, `connectTimeout`, `applicationName`, `ssl`, `url` … already share the name.
 */
export const sqlPgAliases = {
  maxConnections: "max",
  minConnections: "min",
  connectionTTL: "maxLifetime"
} as const

/** @effect/sql-pg options PgPool cannot honour: rejected with the reason, never ignored. */
const unsupported: Record<string, string> = {
  path: "is not supported by PgPool (a Unix socket directory goes in host, e.g. host: \"/var/run/postgresql\")",
  stream: "is not supported by PgPool (it opens its own sockets)"
}

export const allKeys: ReadonlyArray<string> = [
  ...connectionInputKeys, ...coreKeys, ...clientKeys, ...Object.keys(sqlPgAliases)
]

/** TLS-related URL parameters (pg-connection-string's), and what `sslmode` may be. */
const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full", "no-verify"] as const

const TLS_OBJECT_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["rejectUnauthorized", "boolean"],
  ["servername", "string"],
  ["checkServerIdentity", "function"]
]

/** The `ssl` option: `true`/`false` or Node TLS options; TLS on means verified unless `rejectUnauthorized: false`. */
const tlsOption = (check: OptionCheck.Checker, ssl: unknown): false | ConnectionOptions | undefined => {
  if (ssl === undefined || ssl === false) return ssl
  if (ssl === true) return { rejectUnauthorized: true }
  if (typeof ssl === "string") {
    return check.fail("ssl", `must be true, false or Node TLS options, got ${JSON.stringify(ssl)} (for an sslmode, put ?sslmode=… in url)`)
  }
  const record = check.record("ssl", ssl)!
  for (const [key, type] of TLS_OBJECT_CHECKS) {
    const value = record[key]
    if (value !== undefined && typeof value !== type) {
      check.fail(`ssl.${key}`, `must be a ${type}, got ${OptionCheck.describeValue(value)}`)
    }
  }
  // Node's tls.connect throws on these inside pg's socket callback: checked here instead
  const pem = (value: unknown): boolean => typeof value === "string" || Buffer.isBuffer(value)
  for (const key of ["ca", "cert", "key"] as const) {
    const value = record[key]
    if (value !== undefined && !(pem(value) || (Array.isArray(value) && value.every((v) => pem(v) || (key === "key" && typeof v === "object" && v !== null))))) {
      check.fail(`ssl.${key}`, `must be a PEM string or Buffer (or an array of them), got ${OptionCheck.describeValue(value)}`)
    }
  }
  return { rejectUnauthorized: true, ...(record as ConnectionOptions) }
}

const readPem = (check: OptionCheck.Checker, param: string, file: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch (error) {
    return check.fail("url", `${param}: cannot read ${file}: ${(error as Error).message}`)
  }
}

/**
 * The TLS the URL's parameters ask for, exactly as node-postgres reads them (pg-connection-string
 * 2.9): `undefined` when the URL says nothing about TLS.
 *
 * - `ssl=true|1` → verified TLS; `ssl=0|false` → none; `ssl=no-verify` → TLS without verification.
 * - `sslmode=disable` → none; `prefer`, `require`, `verify-ca`, `verify-full` → verified TLS (certificate
 *   and host name; pg never falls back to plaintext, so `prefer` fails against a server without TLS);
 *   `no-verify` → TLS without verification. Any other `sslmode` → `PoolConfigError`.
 * - with `uselibpqcompat=true`, libpq's meanings: `prefer` and `require` → TLS without verification
 *   (`require` with `sslrootcert` = `verify-ca`), `verify-ca` → chain only (needs `sslrootcert`),
 *   `verify-full` → chain and host name; `no-verify` is not a libpq mode.
 * - `sslrootcert`, `sslcert`, `sslkey` → the file's PEM as `ca`, `cert`, `key` (and TLS on).
 */
const tlsOfUrl = (check: OptionCheck.Checker, params: URLSearchParams): false | ConnectionOptions | undefined => {
  const ssl = params.get("ssl")
  const mode = params.get("sslmode")
  const rootcert = params.get("sslrootcert")
  const cert = params.get("sslcert")
  const key = params.get("sslkey")
  const compat = params.get("uselibpqcompat")
  if (compat !== null && compat !== "true" && compat !== "false") {
    check.fail("url", `uselibpqcompat must be true or false, got ${JSON.stringify(compat)}`)
  }
  const libpq = compat === "true"
  if (mode !== null && !(SSL_MODES as ReadonlyArray<string>).includes(mode)) {
    check.fail("url", `sslmode must be one of ${SSL_MODES.join(", ")}; got ${JSON.stringify(mode)}`)
  }
  if (libpq && mode === "no-verify") check.fail("url", "sslmode=no-verify is not a libpq mode (uselibpqcompat=true): use sslmode=require")
  if (ssl !== null && !["true", "1", "0", "false", "no-verify"].includes(ssl)) {
    check.fail("url", `ssl must be true, 1, 0, false or no-verify; got ${JSON.stringify(ssl)}`)
  }
  if (mode === null && rootcert === null && cert === null && key === null) {
    if (ssl === null) return undefined
    if (ssl === "0" || ssl === "false") return false
    if (ssl === "no-verify") return { rejectUnauthorized: false }
    return { rejectUnauthorized: true }
  }
  if (mode === "disable") {
    if (ssl === "true" || ssl === "1" || ssl === "no-verify") check.fail("url", `ssl=${ssl} contradicts sslmode=disable`)
    if (rootcert !== null || cert !== null || key !== null) check.fail("url", "sslrootcert/sslcert/sslkey contradict sslmode=disable")
    return false
  }
  if (ssl === "0" || ssl === "false") check.fail("url", `ssl=${ssl} contradicts the TLS parameters given with it`)
  const tls: { -readonly [K in keyof ConnectionOptions]: ConnectionOptions[K] } = { rejectUnauthorized: true }
  if (cert !== null) tls.cert = readPem(check, "sslcert", cert)
  if (key !== null) tls.key = readPem(check, "sslkey", key)
  if (rootcert !== null) tls.ca = readPem(check, "sslrootcert", rootcert)
  const skipHostname = () => {
    tls.checkServerIdentity = () => undefined
  }
  if (libpq) {
    if (mode === "prefer" || (mode === "require" && rootcert === null)) tls.rejectUnauthorized = false
    else if (mode === "require") skipHostname()
    else if (mode === "verify-ca") {
      if (rootcert === null) check.fail("url", "sslmode=verify-ca (uselibpqcompat=true) needs sslrootcert: verify-ca against public CAs verifies nothing about who the server is")
      skipHostname()
    }
  } else if (mode === "no-verify" || ssl === "no-verify") {
    tls.rejectUnauthorized = false
  }
  return tls
}

/** The TLS of both `url` and `ssl`: they may refine each other but never contradict. */
const combineTls = (
  check: OptionCheck.Checker,
  fromUrl: false | ConnectionOptions | undefined,
  fromOption: false | ConnectionOptions | undefined
): false | ConnectionOptions | undefined => {
  if (fromUrl === undefined) return fromOption
  if (fromOption === undefined) return fromUrl
  if (fromUrl === false || fromOption === false) {
    if (fromUrl === false && fromOption === false) return false
    return check.fail("ssl", "contradicts the TLS parameters of url (one turns TLS off, the other on)")
  }
  if (fromUrl.rejectUnauthorized !== false && fromOption.rejectUnauthorized === false) {
    return check.fail("ssl", "rejectUnauthorized: false contradicts the url's TLS parameters, which verify the server's certificate")
  }
  // the option refines the url (ca, servername …); its default rejectUnauthorized: true is the stricter
  return { ...fromUrl, ...fromOption }
}

/** A secret: `Redacted`, never a plain string (it would end up in logs and `PgClient.config`). */
const secret = (check: OptionCheck.Checker, option: string, value: unknown): string | undefined => {
  if (value === undefined) return undefined
  if (Redacted.isRedacted(value)) {
    const inner = Redacted.value(value)
    if (typeof inner !== "string") check.fail(option, `must hold a string, got ${OptionCheck.describeValue(inner)}`)
    return inner as string
  }
  return check.fail(option, `must be Redacted (Redacted.make(...) or Config.redacted), got ${typeof value === "string" ? "a plain string" : OptionCheck.describeValue(value)}`)
}

const decode = (check: OptionCheck.Checker, part: string, value: string): string => {
  try {
    return decodeURIComponent(value)
  } catch {
    return check.fail("url", `its ${part} has malformed %-encoding (the value is redacted)`)
  }
}

/**
 * `given` is every option as the user wrote them (`PgPool.Options`, a superset of the connection
 * input): `PgClient.config` reports them field for field, as @effect/sql-pg's `PgClient.make` does
 * (its config is the options it was given, with host, port, username, password and database
 * filled in from `url` where they were not given; the password stays `Redacted`).
 */
export const parseConnection = (
  name: string,
  input: ConnectionInput,
  given: ConnectionInput = input
): Either.Either<ConnectionSettings, PoolConfigError> =>
  OptionCheck.run(name, (check) => {
    // a host list ("h1,h2" or an array) and a port list go to the engine's libpq rules; a single
    // host and port keep their checks
    const hostList = Array.isArray(input.host) || (typeof input.host === "string" && input.host.includes(","))
    const portList = Array.isArray(input.port) || typeof input.port === "string"
    let host = hostList ? undefined : check.string("host", input.host, undefined, { nonEmpty: true })
    let port = input.port === undefined || portList ? undefined : check.integer("port", input.port, 5432, { min: 1, max: 65_535 })
    let database = check.string("database", input.database, undefined, { nonEmpty: true })
    let user = check.string("username", input.username, undefined, { nonEmpty: true })
    let password = secret(check, "password", input.password)
    const givenUrl = secret(check, "url", input.url)
    const parsed = parseTarget({
      url: givenUrl === undefined || !/^postgres(ql)?:\/\//.test(givenUrl) ? undefined : givenUrl,
      host: input.host,
      port: input.port,
      targetSessionAttrs: input.targetSessionAttrs,
      loadBalanceHosts: input.loadBalanceHosts
    })
    if (parsed._tag === "Invalid") {
      // never quote the url: it may hold the password
      check.fail(parsed.option, parsed.option === "url" ? "has an invalid host list (the value is redacted)" : parsed.reason.replace(/^\S+ /, ""))
    }
    const target = (parsed as { readonly value: Target }).value
    // node-postgres parses one host: the url with its first host stands for all of them
    const rawUrl = givenUrl !== undefined && /^postgres(ql)?:\/\//.test(givenUrl) ? urlFor(givenUrl, target.hosts[0]!) : givenUrl
    let urlTls: false | ConnectionOptions | undefined
    // the URL's application_name, as pg reads it from a connection string (PgClient.layer's way)
    let urlApplicationName: string | undefined
    if (rawUrl !== undefined) {
      let url: URL
      try {
        url = new URL(rawUrl)
      } catch {
        return check.fail("url", "is not a valid URL (the value is redacted)")
      }
      if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        check.fail("url", `must start with postgres:// or postgresql://, got ${url.protocol}//`)
      }
      host ??= decode(check, "host", url.hostname) || undefined
      port ??= url.port === "" ? undefined : Number(url.port)
      database ??= decode(check, "database", url.pathname.replace(/^\//, "")) || undefined
      user ??= decode(check, "user name", url.username) || undefined
      password ??= url.password === "" ? undefined : decode(check, "password", url.password)
      urlTls = tlsOfUrl(check, url.searchParams)
      urlApplicationName = url.searchParams.get("application_name") ?? undefined
      // Postgres refuses a NUL in a startup value on every connect: a configuration error, said now
      const urlProblem = startupValueProblem(urlApplicationName)
      if (urlProblem !== undefined) check.fail("url", `its application_name ${urlProblem}`)
    }
    const ssl = combineTls(check, urlTls, tlsOption(check, input.ssl))
    const applicationName = check.string("applicationName", input.applicationName, undefined) ?? urlApplicationName
    const nameProblem = startupValueProblem(applicationName)
    if (nameProblem !== undefined) check.fail("applicationName", nameProblem)
    // 0 and Infinity: no connect timeout (as pg's connectionTimeoutMillis 0); beyond the timer
    // limit pg gets no timer and the pool's createTimeout (Clock-driven) bounds the attempt
    const connectTimeout = check.duration("connectTimeout", input.connectTimeout, "10 seconds", { zero: "none" })
    // 0 and Infinity: none (Postgres' statement_timeout 0); the server takes at most INT_MAX ms
    const statement = check.duration("statementTimeout", input.statementTimeout, Infinity, { zero: "none", max: PG_MAX_TIMEOUT_MS })
    const statementTimeout = statement === Infinity ? undefined : Math.ceil(statement)
    const pgbouncer = check.boolean("pgbouncer", input.pgbouncer, false)
    // PgBouncer's transaction mode has no named statements (unless it is 1.21+ with
    // max_prepared_statements: then set prepareThreshold yourself)
    const threshold = check.integer("prepareThreshold", input.prepareThreshold, pgbouncer ? 0 : PREPARE_THRESHOLD, { min: 0 })
    const maxPrepared = check.integer("maxPreparedStatements", input.maxPreparedStatements, MAX_PREPARED_STATEMENTS, { min: 0 })
    // checked, then the user's own object handed on: pg's TypeOverrides keeps getTypeParser on its prototype
    check.record("types", input.types)
    if (input.types !== undefined && typeof (input.types as { getTypeParser?: unknown }).getTypeParser !== "function") {
      check.fail("types", "must have a getTypeParser function (pg's CustomTypesConfig)")
    }
    const base: Pg.ClientConfig = {
      host: hostList || target.hosts.length > 1 ? target.hosts[0]!.host : (host ?? "localhost"),
      port: portList || target.hosts.length > 1 ? target.hosts[0]!.port : (port ?? 5432),
      ...(database === undefined ? {} : { database }),
      ...(user === undefined ? {} : { user }),
      ...(password === undefined ? {} : { password }),
      ...(ssl === undefined ? {} : { ssl })
    }
    const client: Pg.ClientConfig = {
      ...base,
      application_name: applicationName ?? "@effect-pool/pg",
      connectionTimeoutMillis: OptionCheck.timerMillis(connectTimeout) ?? 0,
      // PgBouncer (transaction mode) rejects session settings in the startup packet
      ...(statementTimeout !== undefined && !pgbouncer ? { statement_timeout: statementTimeout } : {}),
      ...(input.types === undefined ? {} : { types: input.types })
    }
    return {
      client,
      cancel: base,
      reported: {
        ...given,
        host,
        port,
        database,
        username: user,
        password: given.password ?? (password === undefined ? undefined : Redacted.make(password))
      },
      clientStatementTimeout: pgbouncer ? statementTimeout : undefined,
      connectTimeout,
      prepareThreshold: threshold,
      maxPreparedStatements: maxPrepared,
      target
    }
  })

/**
 * Checks every option of `PgPool.Options` that is not the core pool's or the connection's: no
 * unknown key (with a suggestion), @effect/sql-pg's names mapped to ours, and the client options'
 * types. Returns the options to hand core's `Pool.make` (only the keys it knows).
 */
export const parseOptions = (
  name: string,
  options: Record<string, unknown>
): Either.Either<Record<string, unknown>, PoolConfigError> =>
  OptionCheck.run(name, (check) => {
    check.record("options", options)
    for (const key of Object.keys(options)) {
      if (options[key] !== undefined && Object.hasOwn(unsupported, key)) check.fail(key, unsupported[key]!)
    }
    check.known(options, allKeys)
    const core: Record<string, unknown> = {}
    for (const key of coreKeys) if (options[key] !== undefined) core[key] = options[key]
    for (const [theirs, ours] of Object.entries(sqlPgAliases)) {
      const value = options[theirs]
      if (value === undefined) continue
      if (core[ours] !== undefined && core[ours] !== value) {
        check.fail(theirs, `is @effect/sql-pg's name for ${ours}, which is also given with another value`)
      }
      // @effect/sql-pg's connectionTTL is the lifetime of a connection: our maxLifetime
      core[ours] = value
    }
    check.func("transformQueryNames", options.transformQueryNames)
    check.func("transformResultNames", options.transformResultNames)
    check.boolean("transformJson", options.transformJson, true)
    check.record("spanAttributes", options.spanAttributes)
    // core's shape without its check (SELECT 1 is the pool's): { schedule, timeout }
    OptionCheck.healthCheck(check, options.healthCheck, { userCheck: false })
    return core
  })

/** Postgres errors that retrying will not fix: bad credentials, unknown database, bad TLS. */
export const isPermanent = (error: unknown): boolean => {
  const cause = (error as { cause?: unknown })?.cause ?? error
  const code = (cause as { code?: unknown })?.code
  // pg: TLS asked for, and the server has none (pg never falls back to plaintext)
  if (cause instanceof Error && /does not support SSL/.test(cause.message)) return true
  if (typeof code !== "string") return false
  return ["28P01", "28000", "3D000", "42501", "08P01"].includes(code) ||
    code.startsWith("ERR_TLS") || code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || code === "CERT_HAS_EXPIRED" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" || code === "UNABLE_TO_GET_ISSUER_CERT"
}
