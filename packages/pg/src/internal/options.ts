/**
 * Options → `pg.ClientConfig` for each connection, validated up front.
 *
 * @internal
 */
import type { PgClientConfig } from "@effect/sql-pg/PgClient"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type Pg from "pg"
import type { ConnectionOptions } from "node:tls"
import { Pool, PoolConfigError } from "@effect-pool/core"
import type { Options } from "../PgPool.js"

/** The fields of `PgPool.Options` that say where and how to connect (documented there). */
export const connectionInputKeys = [
  "url", "host", "port", "database", "username", "password", "ssl", "applicationName", "connectTimeout",
  "statementTimeout", "pgbouncer", "prepareThreshold", "maxPreparedStatements", "types"
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
}

/** pgjdbc's defaults: prepared from the 5th run, 256 statements per session at most. */
const PREPARE_THRESHOLD = 5
const MAX_PREPARED_STATEMENTS = 256

const count = (name: string, option: string, value: number | undefined, fallback: number) =>
  value === undefined
    ? Either.right(fallback)
    : Number.isInteger(value) && value >= 0
    ? Either.right(value)
    : invalid(name, option, `must be a whole number ≥ 0, got ${String(value)}`)

const invalid = (name: string, option: string, reason: string) => Either.left(new PoolConfigError({ pool: name, option, reason }))

/** TLS on means certificates are verified unless the caller explicitly says otherwise. */
const tlsOf = (ssl: boolean | ConnectionOptions | undefined): false | ConnectionOptions | undefined => {
  if (ssl === undefined || ssl === false) return ssl
  if (ssl === true) return { rejectUnauthorized: true }
  return { rejectUnauthorized: true, ...ssl }
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
): Either.Either<ConnectionSettings, PoolConfigError> => {
  let host = input.host
  let port = input.port
  let database = input.database
  let user = input.username
  let password = input.password === undefined ? undefined : Redacted.value(input.password)
  if (input.url !== undefined) {
    let url: URL
    try {
      url = new URL(Redacted.value(input.url))
    } catch {
      return invalid(name, "url", "is not a valid URL (the value is redacted)")
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
      return invalid(name, "url", `must start with postgres:// or postgresql://, got ${url.protocol}//`)
    }
    host ??= decodeURIComponent(url.hostname) || undefined
    port ??= url.port === "" ? undefined : Number(url.port)
    database ??= decodeURIComponent(url.pathname.replace(/^\//, "")) || undefined
    user ??= decodeURIComponent(url.username) || undefined
    password ??= url.password === "" ? undefined : decodeURIComponent(url.password)
    if (url.searchParams.get("sslmode") === "require" && input.ssl === undefined) {
      return parseConnection(name, { ...input, ssl: true }, given)
    }
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    return invalid(name, "port", `must be a whole number from 1 to 65535, got ${String(port)}`)
  }
  const connect = Pool.durationOption(name, "connectTimeout", input.connectTimeout, "10 seconds")
  if (Either.isLeft(connect)) return Either.left(connect.left)
  const connectTimeout = connect.right
  let statementTimeout: number | undefined
  if (input.statementTimeout !== undefined) {
    const statement = Pool.durationOption(name, "statementTimeout", input.statementTimeout, Infinity)
    if (Either.isLeft(statement)) return Either.left(statement.left)
    statementTimeout = statement.right
  }
  const ssl = tlsOf(input.ssl)
  const pgbouncer = input.pgbouncer === true
  // PgBouncer's transaction mode has no named statements (unless it is 1.21+ with
  // max_prepared_statements: then set prepareThreshold yourself)
  const threshold = count(name, "prepareThreshold", input.prepareThreshold, pgbouncer ? 0 : PREPARE_THRESHOLD)
  if (Either.isLeft(threshold)) return Either.left(threshold.left)
  const maxPrepared = count(name, "maxPreparedStatements", input.maxPreparedStatements, MAX_PREPARED_STATEMENTS)
  if (Either.isLeft(maxPrepared)) return Either.left(maxPrepared.left)
  const base: Pg.ClientConfig = {
    host: host ?? "localhost",
    port: port ?? 5432,
    ...(database === undefined ? {} : { database }),
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(ssl === undefined ? {} : { ssl })
  }
  const client: Pg.ClientConfig = {
    ...base,
    application_name: input.applicationName ?? "@effect-pool/pg",
    connectionTimeoutMillis: connectTimeout === Infinity ? 0 : connectTimeout,
    // PgBouncer (transaction mode) rejects session settings in the startup packet
    ...(statementTimeout !== undefined && statementTimeout !== Infinity && !pgbouncer
      ? { statement_timeout: statementTimeout }
      : {}),
    ...(input.types === undefined ? {} : { types: input.types })
  }
  return Either.right({
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
    clientStatementTimeout: pgbouncer && statementTimeout !== undefined && statementTimeout !== Infinity
      ? statementTimeout
      : undefined,
    connectTimeout,
    prepareThreshold: threshold.right,
    maxPreparedStatements: maxPrepared.right
  })
}

/** Postgres errors that retrying will not fix: bad credentials, unknown database, bad TLS. */
export const isPermanent = (error: unknown): boolean => {
  const cause = (error as { cause?: unknown })?.cause ?? error
  const code = (cause as { code?: unknown })?.code
  if (typeof code !== "string") return false
  return ["28P01", "28000", "3D000", "42501", "08P01"].includes(code) ||
    code.startsWith("ERR_TLS") || code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || code === "CERT_HAS_EXPIRED"
}
