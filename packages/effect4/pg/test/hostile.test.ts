/**
 * PgPool used as a hostile or careless user would: every option with wrong types, out-of-range,
 * overflowing, 0/Infinity/NaN and unknown-key values, and per-call arguments with invalid values.
 * Each is a typed error (or the documented meaning), never a defect, and the pool still works.
 */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Exit, Layer, Redacted, Schedule, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { pgUrl } from "./helpers.js"

type Loose = Record<string, unknown>

const url = () => Redacted.make(pgUrl())
const layerOf = (options: Loose) => PgPool.layer({ url: url(), acquireTimeout: "10 seconds", ...options } as PgPool.Options)

/** Building the layer fails with a PoolConfigError naming `option` (never a defect). */
const rejects = (options: Loose, option: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.scoped(Layer.build(layerOf(options))))
    if (Exit.isSuccess(exit)) return expect.fail(`accepted ${JSON.stringify(Object.keys(options))}`)
    const reason = exit.cause.reasons[0]
    const error = reason?._tag === "Fail" ? reason.error : undefined
    expect(error, `a typed error, not ${String(reason)}`).toBeDefined()
    expect(error!._tag).toBe("PoolConfigError")
    expect(error!.option).toBe(option)
    return error!
  })

/** The pool built from `options` runs a statement, and `f`, and has nothing borrowed after. */
const works = <A, E>(options: Loose, f: Effect.Effect<A, E, SqlClient.SqlClient | PgPool.PgPool | PgClient.PgClient> = Effect.void as never) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const result = yield* f
    expect(yield* sql<{ one: number }>`SELECT 1 AS one`).toEqual([{ one: 1 }])
    const stats = yield* (yield* PgPool.PgPool).stats
    expect(stats.borrowed).toBe(0)
    return result
  }).pipe(Effect.provide(layerOf(options)))

/** [option, bad value, the option the error names]. */
const invalid: ReadonlyArray<readonly [string, unknown, string?]> = [
  // connection (@effect/sql-pg 4's names)
  ["url", "postgres://postgres@localhost/db"], // a plain string: secrets are Redacted
  ["url", Redacted.make("not a url")],
  ["url", Redacted.make("mysql://localhost/db")],
  ["url", Redacted.make("postgres://u:%zz@localhost/db")], // malformed %-encoding
  ["url", Redacted.make("postgres://u@localhost/%zz")],
  ["url", Redacted.make("postgres://u@localhost/db?sslmode=verify_full")],
  ["url", Redacted.make("postgres://u@localhost/db?connect_timeout=soon")],
  ["url", Redacted.make("postgres://u@localhost/db?port=99999")],
  ["url", Redacted.make("postgres://u@localhost/db?application_name=a%00b")], // the driver refuses a NUL on every connect
  ["applicationName", "a\u0000b"],
  ["startupOptions", "-c search_path=a\u0000b"],
  ["url", Redacted.make(42)],
  ["url", 42],
  ["host", 5432],
  ["host", ""],
  ["port", "54x32"], // a libpq port list is a string of ports: "5432" and "5432,5433" are valid
  ["port", 0],
  ["port", 65_536],
  ["port", 54.32],
  ["port", NaN],
  ["port", Infinity],
  ["path", 1],
  ["path", ""],
  ["database", 1],
  ["database", ""],
  ["username", ["postgres"]],
  ["password", "postgres"], // a plain string: it would leak into logs and PgClient.config
  ["password", 1234],
  ["password", Redacted.make(1234)],
  ["ssl", "require"],
  ["ssl", 1],
  ["ssl", null],
  ["ssl", { rejectUnauthorized: "false" }, "ssl.rejectUnauthorized"],
  ["ssl", { servername: 1 }, "ssl.servername"],
  ["ssl", { ca: 1 }, "ssl.ca"],
  ["ssl", { cert: {} }, "ssl.cert"],
  ["ssl", { key: true }, "ssl.key"],
  ["applicationName", 7],
  ["startupOptions", 7],
  ["startupParameters", "search_path=x"],
  ["startupParameters", { user: "x" }, "startupParameters.user"],
  ["startupParameters", { search_path: 1 }, "startupParameters.search_path"],
  ["startupParameters", { client_encoding: "LATIN1" }, "startupParameters.client_encoding"],
  ["startupParameters", { "a\u0000b": "x" }, "startupParameters.a\u0000b"],
  ["stream", "socket"],
  ["connectTimeout", -1],
  ["connectTimeout", NaN],
  ["connectTimeout", "soon"],
  ["connectTimeout", "-5 seconds"],
  ["connectTimeout", {}],
  ["connectTimeout", true],
  ["keepAlive", 0],
  ["keepAlive", "10 millis"],
  ["keepAlive", Infinity],
  ["keepAlive", "x"],
  ["statementTimeout", "30 days"], // above Postgres' INT_MAX ms: every connection would be refused
  ["statementTimeout", 2_147_483_648],
  ["statementTimeout", -1],
  ["statementTimeout", NaN],
  ["statementTimeout", "whenever"],
  ["pgbouncer", "true"],
  ["pgbouncer", 1],
  ["prepare", "no"],
  ["preparedStatementCacheSize", -1],
  ["preparedStatementCacheSize", 1.5],
  ["preparedStatementCacheSize", Infinity],
  ["maxMessageSize", 0],
  ["maxMessageSize", "16MB"],
  ["types", "text"],
  ["multiplex", "yes"],
  ["multiplexConcurrency", 0],
  ["multiplexConcurrency", 1.5],
  ["multiplexConcurrency", Infinity],
  ["multiplexConcurrency", "32"],
  // the Effect 3 edition's names, renamed here
  ["prepareThreshold", 5],
  ["maxPreparedStatements", 256],
  // client
  ["healthCheck", "30 seconds"],
  ["healthCheck", Schedule.spaced("30 seconds")], // the old spelling: the error names the new one
  ["healthCheck", { check: () => Effect.void }, "healthCheck.check"],
  ["healthCheck", { onFailure: "suspend" }, "healthCheck.onFailure"],
  ["healthCheck", { schedule: "30 seconds" }, "healthCheck.schedule"],
  ["healthCheck", { timeout: 0 }, "healthCheck.timeout"],
  ["healthCheck", { timeout: -1 }, "healthCheck.timeout"],
  ["healthCheck", { timeout: NaN }, "healthCheck.timeout"],
  ["healthCheck", { timeout: "soon" }, "healthCheck.timeout"],
  ["healthCheck", { shedule: Schedule.spaced("1 second") }, "healthCheck.shedule"],
  ["transformQueryNames", "camel"],
  ["transformResultNames", true],
  ["transformJson", "yes"],
  ["spanAttributes", "x"],
  ["spanAttributes", ["a"]],
  // core pool options
  ["name", 1],
  ["name", ""],
  ["min", -1],
  ["min", "2"],
  ["min", 11], // above max (10)
  ["min", Infinity],
  ["min", NaN],
  ["max", 0],
  ["max", "10"],
  ["max", 2.5],
  ["max", NaN],
  ["acquireTimeout", -1],
  ["acquireTimeout", "eventually"],
  ["acquireTimeout", NaN],
  ["createTimeout", -1],
  ["idleTimeout", -1],
  ["idleTimeout", "x"],
  ["maxLifetime", -1],
  ["maxLifetimeJitter", 2],
  ["maxLifetimeJitter", -0.1],
  ["maxUses", 0],
  ["maxUses", 1.5],
  ["maxWaiters", -1],
  ["maxIdle", -1],
  ["order", "random"],
  ["validateAfterIdle", -1],
  ["validateTimeout", -1],
  ["recycleTimeout", -1],
  ["createRetry", "3 times"],
  ["shutdownTimeout", -1],
  ["destroyTimeout", -1],
  ["leakDetectionThreshold", -1],
  ["spans", "yes"],
  ["failWaitersOnCreateError", 1],
  // @effect/sql-pg's names
  ["maxConnections", 0],
  ["maxConnections", "3"],
  ["minConnections", -1],
  ["connectionTTL", -1]
]

const aliasFor: Record<string, string> = { maxConnections: "max", minConnections: "min", connectionTTL: "maxLifetime" }

const show = (value: unknown): string => {
  if (typeof value === "function") return "a function"
  if (Redacted.isRedacted(value)) return `Redacted(${String(Redacted.value(value))})`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

describe("PgPool options: bad values are PoolConfigErrors naming the option", () => {
  it.effect("options a user's getter or Proxy throws on reading are a PoolConfigError naming them, never a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [object, string]> = [
        [throwingGetter({ url: url() }, "max"), "max"],
        [throwingGetter({ url: url() }, "url"), "url"],
        [{ url: url(), ssl: throwingGetter({}, "rejectUnauthorized") }, "ssl.rejectUnauthorized"],
        [throwingKeys({ url: url() }), "options"],
        // a Proxy that throws on reading any key it does not list: options are read from the copy
        [throwingReads({ url: url(), max: 0 }), "max"],
        [protoKey({ url: url() }), "__proto__"],
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(PgPool.layer(options as PgPool.Options))))
        expect(error._tag, option).toBe("PoolConfigError")
        expect((error as { readonly option: string }).option, option).toBe(option)
      }
    }))

  for (const [option, value, named] of invalid) {
    it.live(`${option}: ${show(value)}`, () =>
      Effect.gen(function*() {
        const error = yield* rejects({ [option]: value }, named ?? option)
        if (aliasFor[option] !== undefined) expect(error.reason).toContain(aliasFor[option])
      }))
  }
  it.live("the pool still works after every rejected configuration", () => works({}))
})

describe("unknown option names", () => {
  it.live("a misspelt option is a PoolConfigError naming it, with a suggestion", () =>
    Effect.gen(function*() {
      const error = yield* rejects({ statmentTimeout: "1 second" }, "statmentTimeout")
      expect(error.reason).toContain("statementTimeout")
      const max = yield* rejects({ maxConection: 3 }, "maxConection")
      expect(max.reason).toContain("maxConnections")
      yield* rejects({ sslmode: "require" }, "sslmode")
      yield* rejects({ user: "postgres" }, "user")
      yield* rejects({ concurrency: 2 }, "concurrency")
      yield* rejects({ acquire: Effect.void }, "acquire")
    }))
  it.live("a key whose value is undefined is ignored", () => works({ maxConnectionz: undefined }))
})

describe("@effect/sql-pg's names (drop-in)", () => {
  it.live("maxConnections: 3 is max 3, minConnections is min, connectionTTL is maxLifetime", () =>
    Effect.gen(function*() {
      const stats = yield* works({ maxConnections: 3, minConnections: 1, connectionTTL: "1 hour" }, Effect.flatMap(PgPool.PgPool, (p) => p.stats))
      expect(stats.max).toBe(3)
      expect(stats.min).toBe(1)
    }))
  it.live("both names with different values are rejected; with the same value accepted", () =>
    Effect.gen(function*() {
      yield* rejects({ max: 5, maxConnections: 3 }, "maxConnections")
      const stats = yield* works({ max: 3, maxConnections: 3 }, Effect.flatMap(PgPool.PgPool, (p) => p.stats))
      expect(stats.max).toBe(3)
    }))
  it.live("idleTimeout, connectTimeout, keepAlive, startupParameters, prepare share the name and the meaning", () =>
    Effect.gen(function*() {
      const rows = yield* works(
        { idleTimeout: "1 minute", connectTimeout: "5 seconds", keepAlive: "30 seconds", startupParameters: { search_path: "public" }, prepare: false },
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ search_path: string }>`SHOW search_path`)
      )
      expect(rows).toEqual([{ search_path: "public" }])
    }))
})

describe("durations: 0, Infinity and huge values have a documented meaning", () => {
  const statementTimeout = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ statement_timeout: string }>`SHOW statement_timeout`)
  for (const connectTimeout of [0, Infinity, "30 days", Duration.days(30), Duration.infinity, 2 ** 31]) {
    it.live(`connectTimeout ${show(connectTimeout)}: no timeout that fires at once; connections work`, () => works({ connectTimeout }))
  }
  for (const value of [0, Infinity, Duration.infinity]) {
    it.live(`statementTimeout ${show(value)}: none`, () =>
      Effect.gen(function*() {
        expect(yield* works({ statementTimeout: value }, statementTimeout)).toEqual([{ statement_timeout: "0" }])
      }))
  }
  it.live("statementTimeout of Postgres' INT_MAX ms is accepted and set", () =>
    Effect.gen(function*() {
      const rows = yield* works({ statementTimeout: 2_147_483_647 }, statementTimeout)
      expect(rows[0]!.statement_timeout).not.toBe("0")
    }))
  it.live("statementTimeout in microseconds rounds up to whole ms (never 0 = none)", () =>
    Effect.gen(function*() {
      expect(yield* works({ statementTimeout: "2500500 micros" }, statementTimeout)).toEqual([{ statement_timeout: "2501ms" }])
    }))
})

describe("secrets and URLs", () => {
  it.live("malformed %-encoding in the url is a PoolConfigError, and the url is not in the message", () =>
    Effect.gen(function*() {
      const error = yield* rejects({ url: Redacted.make("postgres://u:s3cr%zzet@localhost/db") }, "url")
      expect(error.message).not.toContain("s3cr")
    }))
  it.live("a plain-string password is a PoolConfigError saying to use Redacted", () =>
    Effect.gen(function*() {
      const error = yield* rejects({ password: "hunter2" }, "password")
      expect(error.reason).toContain("Redacted")
      expect(error.message).not.toContain("hunter2")
    }))
  it.live("a password Effect (evaluated per connection) is accepted", () =>
    works({ password: Effect.succeed(Redacted.make(decodeURIComponent(new URL(pgUrl()).password))) }))
})

describe("per-call arguments", () => {
  it.live("a transformResultNames that throws is a SqlError, not a defect; the connection comes back", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`SELECT 1 AS boom`)
      expect(error._tag).toBe("SqlError")
      expect(error.message).toMatch(/transformResultNames threw: cannot name boom/)
      // as a stream too: a SqlError of that stream, not a defect
      const streamed = yield* Effect.exit(Stream.runCollect(sql`SELECT 1 AS boom`.stream))
      expect(Exit.isFailure(streamed) && streamed.cause.reasons[0]?._tag === "Fail", String(streamed)).toBe(true)
      expect(yield* sql`SELECT 2 AS fine`).toEqual([{ fine: 2 }])
      expect((yield* (yield* PgPool.PgPool).stats).borrowed).toBe(0)
    }).pipe(Effect.provide(layerOf({
      max: 1,
      transformResultNames: (name: string) => {
        if (name === "boom") throw new Error("cannot name boom")
        return name
      }
    }))))

  it.live("parameters the driver cannot encode (a cycle, a toJSON that throws, a BigInt in JSON) are SqlErrors, as a statement and as a stream; the pool still works", () => {
    const circular: Loose = {}
    circular.self = circular
    const values: ReadonlyArray<unknown> = [circular, { toJSON: () => { throw new Error("nope") } }, { n: 1n }]
    return works({ max: 1 }, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const value of values) {
        const exit = yield* Effect.exit(sql`SELECT ${value as never}::text AS v`)
        expect(Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail", String(exit)).toBe(true)
        const streamed = yield* Effect.exit(Stream.runCollect(sql`SELECT ${value as never}::text AS v`.stream))
        expect(Exit.isFailure(streamed) && streamed.cause.reasons[0]?._tag === "Fail", String(streamed)).toBe(true)
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
      }
      expect((yield* (yield* PgPool.PgPool).stats).destroyed).toBe(0)
    }))
  })

  it.live("notify and listen with bad channels are SqlErrors, nothing borrowed", () =>
    works({}, Effect.gen(function*() {
      const pg = yield* PgClient.PgClient
      expect((yield* Effect.flip(pg.notify(1 as never, "x")))._tag).toBe("SqlError")
      expect((yield* Effect.flip(pg.notify("ch", { a: 1 } as never)))._tag).toBe("SqlError")
      expect((yield* Effect.flip(pg.notify("x".repeat(64), "x")))._tag).toBe("SqlError")
      expect((yield* Effect.flip(Effect.scoped(pg.listen(undefined as never))))._tag).toBe("SqlError")
      // the engine's rules, as the Effect 3 edition's: a NUL, past 63 UTF-8 bytes, empty
      for (const bad of ["a\u0000b", "é".repeat(32), ""]) {
        const listened = yield* Effect.flip(Effect.scoped(pg.listen(bad)))
        expect([listened._tag, listened.message]).toEqual(["SqlError", expect.stringMatching(/^channel must not/)])
        expect((yield* Effect.flip(pg.notify(bad, "x")))._tag).toBe("SqlError")
      }
    })))

  it.live("resize with bad sizes is a PoolConfigError; the pool keeps its size", () =>
    works({ max: 4 }, Effect.gen(function*() {
      const pool = yield* PgPool.PgPool
      for (const size of [{ max: 0 }, { max: -1 }, { max: NaN }, { max: "3" }, { min: 5 }, { max: 2.5 }]) {
        const error = yield* Effect.flip(pool.resize(size as never))
        expect(error._tag).toBe("PoolConfigError")
      }
      expect((yield* pool.stats).max).toBe(4)
    })))

  it.live("healthCheck: { schedule, timeout } is accepted (Infinity: no limit), and {} (core's defaults)", () =>
    Effect.gen(function*() {
      yield* works({ healthCheck: { schedule: Schedule.spaced("1 minute"), timeout: Infinity } })
      yield* works({ healthCheck: {} })
    }))

  it.live("healthCheck as a bare Schedule (the old spelling) names the new one", () =>
    Effect.gen(function*() {
      const error = yield* rejects({ healthCheck: Schedule.spaced("1 minute") }, "healthCheck")
      expect(error.reason).toContain("healthCheck: { schedule }")
    }))
})

describe("options that are not an object", () => {
  it.effect("PgPool.layer with undefined, null, 5 or an array is a PoolConfigError naming options, not a defect", () =>
    Effect.gen(function*() {
      for (const given of [undefined, null, 5, [1]]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(PgPool.layer(given as never))))
        expect(error._tag).toBe("PoolConfigError")
        expect((error as { option?: string }).option).toBe("options")
      }
    }))
})

describe("application_name", () => {
  it.live("the URL's application_name and startupParameters.application_name name the session, as with PgClient.layer; ours only when none is given", () =>
    Effect.gen(function*() {
      const nameOf = (options: Loose) =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const [row] = yield* sql<{ a: string }>`SELECT current_setting('application_name') AS a`
          return row!.a
        }).pipe(Effect.provide(PgPool.layer({ acquireTimeout: "10 seconds", ...options } as PgPool.Options)))
      const withParam = new URL(pgUrl())
      withParam.searchParams.set("application_name", "billing-url")
      expect(yield* nameOf({ url: Redacted.make(withParam.toString()) })).toBe("billing-url")
      expect(yield* nameOf({ url: url(), startupParameters: { application_name: "billing-startup" } })).toBe("billing-startup")
      expect(yield* nameOf({ url: Redacted.make(withParam.toString()), applicationName: "billing-option" })).toBe("billing-option")
      expect(yield* nameOf({ url: url() })).toBe("@effect-pool/pg")
    }))
})
