/**
 * TLS against a real Postgres with ssl=on and a certificate made at test time (its CA is not a
 * trusted root): nothing ends in plaintext or an unverified peer unless asked for exactly that.
 * The URL's `sslmode` means what @effect/sql-pg 4's driver makes of it; `sslrootcert`, `sslcert`
 * and `sslkey` (which the driver ignores) are read by the pool, as libpq reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { startServer, type TestServer } from "@effect-pool/testing-effect4"
import { PgConnection } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Result } from "effect"
import { SqlClient } from "effect/sql"
import { readFileSync } from "node:fs"
import { makeCertificates, serverTlsCommands, type TestCertificates } from "./certificates.js"

let server: TestServer
let certs: TestCertificates

beforeAll(async () => {
  certs = makeCertificates()
  server = await startServer()
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const admin = yield* PgConnection.make({ url: Redacted.make(server.url) })
    for (const command of serverTlsCommands(certs)) yield* admin.query(command, [], false)
  })))
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  certs?.dispose()
})

const withParams = (base: string, params: string) => `${base}${base.includes("?") ? "&" : "?"}${params}`
const tlsUrl = (params: string) => Redacted.make(withParams(server.url, params))

/** `ssl` of this session as the server sees it, through a pool made from `options`. */
const sessionSsl = (options: PgPool.Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ ssl: boolean }>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
    return rows[0]!.ssl
  }).pipe(
    Effect.provide(PgPool.layer({ acquireTimeout: "5 seconds", ...options }) as Layer.Layer<SqlClient.SqlClient, unknown>),
    Effect.result
  )

describe("TLS server with a certificate from an untrusted CA", () => {
  const rootcert = () => `sslrootcert=${encodeURIComponent(certs.caFile)}`
  const cases: ReadonlyArray<readonly [string, () => string, "tls" | "plain" | "refused"]> = [
    ["sslmode=disable: plaintext, as asked", () => "sslmode=disable", "plain"],
    ["sslmode=require: verified TLS, so refused", () => "sslmode=require", "refused"],
    ["sslmode=verify-full: verified TLS, so refused", () => "sslmode=verify-full", "refused"],
    ["sslmode=prefer: TLS first (the server has it), verified, so refused — never plaintext", () => "sslmode=prefer", "refused"],
    ["sslmode=verify-full with sslrootcert: verified TLS", () => `sslmode=verify-full&${rootcert()}`, "tls"],
    ["sslmode=require with sslrootcert: verified TLS", () => `sslmode=require&${rootcert()}`, "tls"],
    ["sslrootcert alone: verified TLS", () => rootcert(), "tls"]
  ]
  for (const [name, params, expected] of cases) {
    it.live(name, () =>
      Effect.gen(function*() {
        const result = yield* sessionSsl({ url: tlsUrl(params()) })
        if (expected === "refused") expect(Result.isFailure(result)).toBe(true)
        else expect(result).toEqual(Result.succeed(expected === "tls"))
      }), 30_000)
  }

  it.live("the ssl option: true verifies (refused), { ca } verifies (TLS), rejectUnauthorized: false is unverified TLS, another servername is refused", () =>
    Effect.gen(function*() {
      const url = Redacted.make(server.url)
      const ca = readFileSync(certs.caFile, "utf8")
      expect(Result.isFailure(yield* sessionSsl({ url, ssl: true }))).toBe(true)
      expect(yield* sessionSsl({ url, ssl: { ca } })).toEqual(Result.succeed(true))
      expect(yield* sessionSsl({ url, ssl: { rejectUnauthorized: false } })).toEqual(Result.succeed(true))
      expect(Result.isFailure(yield* sessionSsl({ url, ssl: { ca, servername: "db.example" } }))).toBe(true)
    }), 30_000)

  it.live("TLS files in the url that cannot be read, or that contradict TLS off, are PoolConfigErrors", () =>
    Effect.gen(function*() {
      const error = (options: PgPool.Options) => Effect.flip(Effect.scoped(Layer.build(PgPool.layer(options))))
      expect(yield* error({ url: tlsUrl("sslrootcert=/no/such/file.pem") })).toMatchObject({ _tag: "PoolConfigError", option: "url" })
      expect(yield* error({ url: tlsUrl(`sslmode=disable&sslrootcert=${encodeURIComponent(certs.caFile)}`) })).toMatchObject({ _tag: "PoolConfigError", option: "url" })
      expect(yield* error({ url: tlsUrl(`sslrootcert=${encodeURIComponent(certs.caFile)}`), ssl: false })).toMatchObject({ _tag: "PoolConfigError", option: "ssl" })
    }))

  it.live("url and ssl option never contradict each other (the driver would take ssl over the url: plaintext or an unverified server)", () =>
    Effect.gen(function*() {
      const error = (options: PgPool.Options) => Effect.flip(Effect.scoped(Layer.build(PgPool.layer(options))))
      expect(yield* error({ url: tlsUrl("sslmode=verify-full"), ssl: { rejectUnauthorized: false } })).toMatchObject({ _tag: "PoolConfigError", option: "ssl" })
      expect(yield* error({ url: tlsUrl("sslmode=prefer"), ssl: { rejectUnauthorized: false } })).toMatchObject({ _tag: "PoolConfigError", option: "ssl" })
      expect(yield* error({ url: tlsUrl("sslmode=disable"), ssl: true })).toMatchObject({ _tag: "PoolConfigError", option: "ssl" })
      expect(yield* error({ url: tlsUrl("sslmode=require"), ssl: false })).toMatchObject({ _tag: "PoolConfigError", option: "ssl" })
      // refining is fine: the url asks for verified TLS, the option gives the CA to verify with
      const ca = readFileSync(certs.caFile, "utf8")
      expect(yield* sessionSsl({ url: tlsUrl("sslmode=verify-full"), ssl: { ca } })).toEqual(Result.succeed(true))
      expect(yield* sessionSsl({ url: tlsUrl("sslmode=disable"), ssl: false })).toEqual(Result.succeed(false))
    }), 30_000)

  it.live("node-postgres's ssl= url parameter, which the driver ignores (plaintext), is a PoolConfigError naming sslmode", () =>
    Effect.gen(function*() {
      for (const value of ["true", "1", "no-verify", "0"]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(PgPool.layer({ url: tlsUrl(`ssl=${value}`) }))))
        expect(error).toMatchObject({ _tag: "PoolConfigError", option: "url" })
        expect(error.message).toMatch(/use sslmode=/)
      }
    }))
})
