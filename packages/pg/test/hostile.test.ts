/**
 * PgPool used as a hostile or careless user would: every option of `PgPool.Options` with wrong
 * types, out-of-range, overflowing, 0/Infinity/NaN and unknown-key values, and per-call
 * arguments with invalid values. Each is a typed error (or the documented meaning), never a
 * defect, and the pool still works afterwards.
 */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Exit, Layer, Redacted, Schedule, Stream } from "effect"
import pg from "pg"
import { admin, eventually, pgUrl } from "./helpers.js"

type Loose = Record<string, unknown>

const url = () => Redacted.make(pgUrl())
const layerOf = (options: Loose) => PgPool.layer({ url: url(), acquireTimeout: "10 seconds", ...options } as PgPool.Options)

/** Building the layer fails with a PoolConfigError naming `option` (never a defect). */
const rejects = (options: Loose, option: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.scoped(Layer.build(layerOf(options))))
    if (Exit.isSuccess(exit)) expect.fail(`accepted ${JSON.stringify(Object.keys(options))}`)
    const failure = Exit.isFailure(exit) ? exit.cause : undefined
    const error = failure?._tag === "Fail" ? failure.error : undefined
    expect(error, `a typed error, not ${String(failure)}`).toBeDefined()
    expect(error!._tag).toBe("PoolConfigError")
    expect(error!.option).toBe(option)
    return error!
  })

/** The pool built from `options` runs a statement, and `f`, and has nothing borrowed after. */
const works = <A>(options: Loose, f: Effect.Effect<A, unknown, SqlClient.SqlClient | PgPool.PgPool> = Effect.void as never) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const result = yield* f
    expect(yield* sql<{ one: number }>`SELECT 1 AS one`).toEqual([{ one: 1 }])
    const pool = yield* PgPool.PgPool
    const stats = yield* pool.stats
    expect(stats.borrowed).toBe(0)
    return result
  }).pipe(Effect.provide(layerOf(options)))

const circular: Loose = {}
circular.self = circular

/** [option, bad value]: the error names the option. */
const invalid: ReadonlyArray<readonly [string, unknown, string?]> = [
  // connection
  ["url", "postgres://postgres@localhost/db"], // a plain string: secrets are Redacted
  ["url", Redacted.make("not a url")],
  ["url", Redacted.make("mysql://localhost/db")],
  ["url", Redacted.make("postgres://u:%zz@localhost/db")], // malformed %-encoding
  ["url", Redacted.make("postgres://%E0%A4%A@localhost/db")],
  ["url", Redacted.make("postgres://u@localhost/%zz")],
  ["url", Redacted.make("postgres://u@localhost/db?application_name=a%00b")], // Postgres refuses a NUL on every connect
  ["applicationName", "a\u0000b"],
  ["url", Redacted.make(42)],
  ["url", 42],
  ["host", 5432],
  ["host", ""],
  ["port", "54x2"],
  ["port", "5432,5433"], // two ports for one host
  ["port", 0],
  ["port", 65_536],
  ["port", 54.32],
  ["port", NaN],
  ["port", Infinity],
  ["database", 1],
  ["database", ""],
  ["username", ["postgres"]],
  ["password", "postgres"], // a plain string: rejected, typed (it would leak into logs and config)
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
  ["ssl", { checkServerIdentity: "no" }, "ssl.checkServerIdentity"],
  ["applicationName", 7],
  ["connectTimeout", -1],
  ["connectTimeout", NaN],
  ["connectTimeout", "soon"],
  ["connectTimeout", "-5 seconds"],
  ["connectTimeout", {}],
  ["connectTimeout", true],
  ["statementTimeout", "30 days"], // above Postgres' INT_MAX ms: every connection would be refused
  ["statementTimeout", 2_147_483_648],
  ["statementTimeout", -1],
  ["statementTimeout", NaN],
  ["statementTimeout", "whenever"],
  ["pgbouncer", "true"],
  ["pgbouncer", 1],
  ["prepareThreshold", -1],
  ["prepareThreshold", 1.5],
  ["prepareThreshold", "5"],
  ["prepareThreshold", NaN],
  ["prepareThreshold", Infinity],
  ["maxPreparedStatements", -1],
  ["maxPreparedStatements", "256"],
  ["maxPreparedStatements", Infinity],
  ["types", "text"],
  ["types", {}],
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
  ["createTimeout", "x"],
  ["idleTimeout", -1],
  ["idleTimeout", "x"],
  ["maxLifetime", -1],
  ["maxLifetime", "x"],
  ["maxLifetimeJitter", 2],
  ["maxLifetimeJitter", -0.1],
  ["maxLifetimeJitter", "0.1"],
  ["maxUses", 0],
  ["maxUses", "5"],
  ["maxUses", 1.5],
  ["maxWaiters", -1],
  ["maxWaiters", "5"],
  ["maxIdle", -1],
  ["maxIdle", "5"],
  ["order", "random"],
  ["validateAfterIdle", -1],
  ["validateAfterIdle", "x"],
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
  ["connectionTTL", -1],
  // @effect/sql-pg options PgPool cannot honour
  ["path", "/var/run/postgresql"],
  ["stream", () => undefined]
]

const aliasFor: Record<string, string> = { maxConnections: "max", minConnections: "min", connectionTTL: "maxLifetime" }

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
    const shown = typeof value === "function" ? "a function" : Redacted.isRedacted(value) ? `Redacted(${String(Redacted.value(value))})` : (() => {
      try {
        return JSON.stringify(value) ?? String(value)
      } catch {
        return String(value)
      }
    })()
    it.live(`${option}: ${shown}`, () =>
      Effect.gen(function*() {
        const error = yield* rejects({ [option]: value }, named ?? option)
        // an @effect/sql-pg name's value is checked as ours, and the error says which
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

  it.live("idleTimeout and connectTimeout share the name and the meaning", () =>
    works({ idleTimeout: "1 minute", connectTimeout: "5 seconds" }))
})

describe("durations: 0, Infinity and huge values have a documented meaning", () => {
  const statementTimeout = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ statement_timeout: string }>`SHOW statement_timeout`)
  for (const connectTimeout of [0, Infinity, "30 days", Duration.days(30), Duration.infinity, 2 ** 31]) {
    it.live(`connectTimeout ${String(connectTimeout)}: no timeout that fires at once; connections work`, () => works({ connectTimeout }))
  }
  for (const value of [0, Infinity, Duration.infinity]) {
    it.live(`statementTimeout ${String(value)}: none`, () =>
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
})

describe("per-call arguments", () => {
  it.live("a transformResultNames that throws is a SqlError, not a defect; the connection comes back", () =>
    works({ transformResultNames: () => { throw new Error("boom") } }, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // SELECT 1 AS one in `works` goes through the transform too: use a query without rows after
      const error = yield* Effect.flip(sql`SELECT 1 AS one`)
      expect(error._tag).toBe("SqlError")
      const streamed = yield* Effect.flip(Stream.runCollect(sql`SELECT 1 AS one`.stream))
      expect(streamed._tag).toBe("SqlError")
    })).pipe(
      // `works`' own SELECT fails too (the transform throws): that failure must be a SqlError
      Effect.flip,
      Effect.map((e) => expect((e as { _tag: string })._tag).toBe("SqlError"))
    ))

  it.live("a transformQueryNames that throws is a SqlError (identifiers, JSON keys, streams); nothing is borrowed", () =>
    works({
      transformQueryNames: (name: string) => {
        if (name.startsWith("bad")) throw new Error(`cannot name ${name}`)
        return name
      }
    }, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pgc = yield* PgClient.PgClient
      for (const statement of [
        sql`SELECT 1 AS ${sql("badColumn")}`,
        sql`SELECT ${pgc.json({ badKey: 1 })}::jsonb AS v`,
        sql`SELECT 1 AS ${sql("badOther")}`.values,
        sql`SELECT 1 AS ${sql("badUnprepared")}`.unprepared
      ]) {
        const error = yield* Effect.flip(statement as Effect.Effect<unknown, unknown>)
        expect(error).toMatchObject({ _tag: "SqlError", message: expect.stringMatching(/transformQueryNames threw: cannot name bad/) })
      }
      const streamed = yield* Effect.flip(Stream.runCollect(sql`SELECT 1 AS ${sql("badStream")}`.stream))
      expect(streamed._tag).toBe("SqlError")
      // names that do not throw still work, in and out of a transaction
      expect(yield* sql`SELECT 1 AS ${sql("good")}`).toEqual([{ good: 1 }])
      const inTx = yield* Effect.flip(sql.withTransaction(sql`SELECT 1 AS ${sql("badTx")}`))
      expect(inTx._tag).toBe("SqlError")
    })))

  it.live("parameters pg cannot serialise are SqlErrors; the pool still works", () =>
    works({}, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const value of [circular, { toPostgres: () => { throw new Error("nope") } }]) {
        const exit = yield* Effect.exit(sql`SELECT ${value as never}::text AS v`)
        expect(Exit.isFailure(exit) && exit.cause._tag === "Fail").toBe(true)
        // a cursor stream prepares its parameters when made: the same typed error, not a defect
        const streamed = yield* Effect.exit(Stream.runCollect(sql`SELECT ${value as never}::text AS v`.stream))
        expect(Exit.isFailure(streamed) && streamed.cause._tag === "Fail").toBe(true)
      }
    })))

  it.live("notify and listen with arguments that are not strings are SqlErrors", () =>
    works({}, Effect.gen(function*() {
      const pg = yield* PgClient.PgClient
      expect((yield* Effect.flip(pg.notify(1 as never, "x")))._tag).toBe("SqlError")
      expect((yield* Effect.flip(pg.notify("ch", { a: 1 } as never)))._tag).toBe("SqlError")
      expect((yield* Effect.flip(Stream.runCollect(pg.listen(undefined as never))))._tag).toBe("SqlError")
    }).pipe(Effect.provide(Layer.empty))))

  it.live("a bad channel (a NUL, past 63 bytes, empty) is refused before it is sent: the LISTEN session every listener shares stays, no notification lost", () =>
    works({ applicationName: "hostile-channels" }, Effect.gen(function*() {
      const pg = yield* PgClient.PgClient
      const channel = `good_${process.pid}_${Date.now()}`
      const got: Array<string> = []
      yield* Effect.forkScoped(Stream.runForEach(pg.listen(channel), (payload) => Effect.sync(() => void got.push(payload))))
      // subscribed once a notification arrives (one sent before the LISTEN is lost)
      yield* eventually("subscribed", Effect.andThen(Effect.orDie(pg.notify(channel, "ping")), Effect.sync(() => got.length > 0)), 20_000)
      const listeners = admin(async (c) =>
        (await c.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'hostile-channels' AND query ILIKE 'LISTEN%'")).rows.map((r) => r.pid as number))
      const before = yield* listeners
      expect(before).toHaveLength(1)
      for (const bad of ["a\u0000b", "c".repeat(64), "é".repeat(32), ""]) {
        const listened = yield* Effect.flip(Stream.runCollect(pg.listen(bad)))
        expect(listened._tag).toBe("SqlError")
        expect((yield* Effect.flip(pg.notify(bad, "x")))._tag).toBe("SqlError")
      }
      // 63 bytes is a name
      const longest = "d".repeat(63)
      yield* Effect.forkScoped(Stream.runForEach(pg.listen(longest), (payload) => Effect.sync(() => void got.push(`63:${payload}`))))
      yield* eventually("the 63-byte channel", Effect.andThen(Effect.orDie(pg.notify(longest, "x")), Effect.sync(() => got.includes("63:x"))), 20_000)
      // the same LISTEN session: never ended by a malformed message
      expect(yield* listeners).toEqual(before)
      got.length = 0
      for (const payload of ["after-0", "after-1", "after-2"]) yield* pg.notify(channel, payload)
      yield* eventually("every notification", Effect.sync(() => got.filter((p) => p.startsWith("after")).length === 3), 20_000)
      expect(got.filter((p) => p.startsWith("after"))).toEqual(["after-0", "after-1", "after-2"])
    }).pipe(Effect.scoped)))

  it.live("resize with bad sizes is a PoolConfigError; the pool keeps its size", () =>
    works({ max: 4 }, Effect.gen(function*() {
      const pool = yield* PgPool.PgPool
      for (const size of [{ max: 0 }, { max: -1 }, { max: NaN }, { max: "3" }, { min: 5 }, { max: 2.5 }]) {
        const error = yield* Effect.flip(pool.resize(size as never))
        expect(error._tag).toBe("PoolConfigError")
      }
      expect((yield* pool.stats).max).toBe(4)
    })))

  it.live("a type parser (types) that throws is a SqlError; the connection goes back", () =>
    works({
      types: {
        getTypeParser: (oid: number, format?: "text" | "binary") =>
          oid === 21 ? () => { throw new Error("no int2 here") } : pg.types.getTypeParser(oid, format as "text")
      }
    }, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`SELECT 1::int2 AS v`)
      expect(error._tag).toBe("SqlError")
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
  it.live("the URL's application_name names the session, as with PgClient.layer (pg reads it from the connection string); the option wins; ours only when none is given", () =>
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
      expect(yield* nameOf({ url: Redacted.make(withParam.toString()), applicationName: "billing-option" })).toBe("billing-option")
      expect(yield* nameOf({ url: url() })).toBe("@effect-pool/pg")
    }))
})
