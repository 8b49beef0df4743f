/**
 * TLS against a real Postgres with ssl=on and a certificate made at test time (its CA is not a
 * trusted root): every TLS parameter of the URL means what it means to node-postgres, an
 * unknown one is a `PoolConfigError`, and nothing ends in plaintext or an unverified peer
 * unless the user asked for exactly that.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { startServer, type TestServer } from "@effect-pool/testing"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Redacted } from "effect"
import pg from "pg"
import { makeCertificates, serverTlsCommands, type TestCertificates } from "./certificates.js"
import { pgUrl } from "./helpers.js"

let server: TestServer
let certs: TestCertificates

beforeAll(async () => {
  certs = makeCertificates()
  server = await startServer()
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  try {
    for (const command of serverTlsCommands(certs)) await admin.query(command)
  } finally {
    await admin.end()
  }
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  certs?.dispose()
})

const withParams = (base: string, params: string) => `${base}${base.includes("?") ? "&" : "?"}${params}`

/** `ssl` of this session as the server sees it, through a pool made from `options`. */
const sessionSsl = (options: PgPool.Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ ssl: boolean }>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
    return rows[0]!.ssl
  }).pipe(
    Effect.provide(PgPool.layer({ acquireTimeout: "5 seconds", ...options }) as Layer.Layer<SqlClient.SqlClient, unknown>),
    Effect.either
  )

const tlsUrl = (params: string) => Redacted.make(withParams(server.url, params))

describe("TLS server with a certificate from an untrusted CA", () => {
  const verified = (params: string) => `${params}&sslrootcert=${encodeURIComponent(certs.caFile)}`
  const cases: ReadonlyArray<readonly [string, () => string, "tls" | "plain" | "refused"]> = [
    ["sslmode=disable: plaintext, as asked", () => "sslmode=disable", "plain"],
    ["sslmode=prefer: verified TLS (pg never falls back), so refused", () => "sslmode=prefer", "refused"],
    ["sslmode=require: verified TLS in pg, so refused", () => "sslmode=require", "refused"],
    ["sslmode=verify-ca without sslrootcert: refused", () => "sslmode=verify-ca", "refused"],
    ["sslmode=verify-full without sslrootcert: refused", () => "sslmode=verify-full", "refused"],
    ["sslmode=no-verify: TLS without verification, as asked", () => "sslmode=no-verify", "tls"],
    ["ssl=true: verified TLS, so refused", () => "ssl=true", "refused"],
    ["ssl=1: verified TLS, so refused", () => "ssl=1", "refused"],
    ["ssl=no-verify: TLS without verification, as asked", () => "ssl=no-verify", "tls"],
    ["sslmode=verify-full with sslrootcert: verified TLS", () => verified("sslmode=verify-full"), "tls"],
    ["sslmode=verify-ca with sslrootcert: verified TLS", () => verified("sslmode=verify-ca"), "tls"],
    ["sslmode=require with sslrootcert: verified TLS", () => verified("sslmode=require"), "tls"],
    ["sslmode=prefer with sslrootcert: verified TLS", () => verified("sslmode=prefer"), "tls"],
    ["sslrootcert alone: verified TLS", () => `sslrootcert=${encodeURIComponent(certs.caFile)}`, "tls"],
    ["uselibpqcompat, sslmode=require: TLS without verification (libpq's meaning)", () => "uselibpqcompat=true&sslmode=require", "tls"],
    ["uselibpqcompat, sslmode=prefer: TLS without verification (libpq's meaning)", () => "uselibpqcompat=true&sslmode=prefer", "tls"],
    ["uselibpqcompat, sslmode=verify-full without sslrootcert: refused", () => "uselibpqcompat=true&sslmode=verify-full", "refused"],
    ["uselibpqcompat, sslmode=verify-ca with sslrootcert: verified TLS", () => verified("uselibpqcompat=true&sslmode=verify-ca"), "tls"],
    ["uselibpqcompat, sslmode=disable: plaintext, as asked", () => "uselibpqcompat=true&sslmode=disable", "plain"]
  ]
  for (const [name, params, expected] of cases) {
    it.live(name, () =>
      Effect.gen(function*() {
        const result = yield* sessionSsl({ url: tlsUrl(params()) })
        if (expected === "refused") expect(Either.isLeft(result)).toBe(true)
        else expect(result).toEqual(Either.right(expected === "tls"))
      }), 30_000)
  }

  it.live("the ssl option: true verifies (refused), { ca } verifies (TLS), rejectUnauthorized: false is unverified TLS", () =>
    Effect.gen(function*() {
      const url = Redacted.make(server.url)
      expect(Either.isLeft(yield* sessionSsl({ url, ssl: true }))).toBe(true)
      expect(Either.isLeft(yield* sessionSsl({ url, ssl: {} }))).toBe(true)
      const { readFileSync } = yield* Effect.promise(() => import("node:fs"))
      expect(yield* sessionSsl({ url, ssl: { ca: readFileSync(certs.caFile, "utf8") } })).toEqual(Either.right(true))
      expect(yield* sessionSsl({ url, ssl: { rejectUnauthorized: false } })).toEqual(Either.right(true))
      // a certificate for another name fails the host-name check
      expect(Either.isLeft(yield* sessionSsl({ url, ssl: { ca: readFileSync(certs.caFile, "utf8"), servername: "db.example" } })))
        .toBe(true)
    }), 30_000)

  it.live("url and ssl option never contradict each other", () =>
    Effect.gen(function*() {
      const error = (options: PgPool.Options) => Effect.flip(Effect.scoped(Layer.build(PgPool.layer(options))))
      expect((yield* error({ url: tlsUrl("sslmode=verify-full"), ssl: { rejectUnauthorized: false } })).option).toBe("ssl")
      expect((yield* error({ url: tlsUrl("sslmode=disable"), ssl: true })).option).toBe("ssl")
      expect((yield* error({ url: tlsUrl("sslmode=require"), ssl: false })).option).toBe("ssl")
    }))
})

describe("TLS URL parameters that cannot work", () => {
  const configError = (url: string) =>
    Effect.flip(Effect.scoped(Layer.build(PgPool.layer({ url: Redacted.make(url) }))))
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["unknown sslmode", "sslmode=verify_full"],
    ["sslmode in the wrong case", "sslmode=REQUIRE"],
    ["empty sslmode", "sslmode="],
    ["unknown ssl value", "ssl=yes"],
    ["sslrootcert that does not exist", "sslmode=verify-full&sslrootcert=/nonexistent/ca.crt"],
    ["sslcert that does not exist", "sslcert=/nonexistent/client.crt"],
    ["sslkey that does not exist", "sslkey=/nonexistent/client.key"],
    ["ssl=0 with sslmode=require", "ssl=0&sslmode=require"],
    ["ssl=true with sslmode=disable", "ssl=true&sslmode=disable"],
    ["verify-ca without sslrootcert in libpq mode", "uselibpqcompat=true&sslmode=verify-ca"],
    ["no-verify in libpq mode", "uselibpqcompat=true&sslmode=no-verify"],
    ["uselibpqcompat not a boolean", "uselibpqcompat=yes&sslmode=require"]
  ]
  for (const [name, params] of cases) {
    it.live(`${name}: PoolConfigError naming url`, () =>
      Effect.gen(function*() {
        const error = yield* configError(withParams("postgres://u:p@127.0.0.1:1/db", params))
        expect(error._tag).toBe("PoolConfigError")
        expect(error.option).toBe("url")
      }))
  }
})

describe("server without TLS", () => {
  const cases: ReadonlyArray<readonly [string, "plain" | "refused"]> = [
    ["sslmode=require", "refused"],
    ["sslmode=prefer", "refused"],
    ["sslmode=verify-full", "refused"],
    ["sslmode=no-verify", "refused"],
    ["ssl=true", "refused"],
    ["uselibpqcompat=true&sslmode=require", "refused"],
    ["sslmode=disable", "plain"],
    ["ssl=0", "plain"]
  ]
  for (const [params, expected] of cases) {
    it.live(`${params}: ${expected === "plain" ? "plaintext, as asked" : "refused, never plaintext"}`, () =>
      Effect.gen(function*() {
        const result = yield* sessionSsl({ url: Redacted.make(withParams(pgUrl(), params)) })
        if (expected === "refused") expect(Either.isLeft(result)).toBe(true)
        else expect(result).toEqual(Either.right(false))
      }), 30_000)
  }
})
