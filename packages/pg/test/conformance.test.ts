/**
 * Conformance: the @effect/sql surface, run by the same code against @effect/sql-pg's own
 * `PgClient.layer` and `PgPool.layer`, asserting the same outcome. A new gap between the two is
 * found here first; known differences are listed in the README ("Differences from …").
 */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { Model, SqlClient, SqlResolver, SqlSchema } from "@effect/sql"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { NodeContext } from "@effect/platform-node"
import { Chunk, Effect, Exit, Fiber, Layer, Redacted, Schema, Stream, String as Str } from "effect"
import { pgUrl, table } from "./helpers.js"

type Env = SqlClient.SqlClient | PgClient.PgClient

/** Both layers with the same options. */
const layers = (options: Partial<PgClient.PgClientConfig> = {}): Record<string, Layer.Layer<Env, unknown>> => ({
  "PgClient.layer": PgClient.layer({ url: Redacted.make(pgUrl()), ...options }),
  "PgPool.layer": PgPool.layer({ url: Redacted.make(pgUrl()), max: 4, ...options }) as Layer.Layer<Env, unknown>
})

/** An outcome as comparable data: values (dates as ISO text, bigints as text) or the error's tag and message. */
const outcome = (exit: Exit.Exit<unknown, unknown>): unknown =>
  JSON.parse(JSON.stringify(
    Exit.isSuccess(exit)
      ? { ok: exit.value }
      : { failed: exit.cause._tag === "Fail" ? { tag: (exit.cause.error as any)?._tag, message: String((exit.cause.error as any)?.message) } : exit.cause._tag },
    (_, value) => (typeof value === "bigint" ? `${value}n` : value)
  ))

/** Runs `program` on both layers and expects the same outcome; returns it. */
const same = (program: Effect.Effect<unknown, unknown, Env>, options?: Partial<PgClient.PgClientConfig>) =>
  Effect.gen(function*() {
    const results: Record<string, unknown> = {}
    for (const [name, layer] of Object.entries(layers(options))) {
      results[name] = outcome(yield* Effect.exit(Effect.provide(program, Layer.fresh(layer))))
    }
    expect(results["PgPool.layer"]).toEqual(results["PgClient.layer"])
    return results["PgPool.layer"] as { ok?: unknown; failed?: unknown }
  })

const sql = SqlClient.SqlClient

describe("conformance: @effect/sql on PgClient.layer and PgPool.layer", () => {
  it.live("statement helpers: insert, update, in, and, or, csv, literal, unsafe, values, unprepared", () =>
    Effect.gen(function*() {
      const result = yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (id serial primary key, name text not null, score int)`
        yield* s`INSERT INTO ${s(t)} ${s.insert({ name: "a", score: 1 })}`
        yield* s`INSERT INTO ${s(t)} ${s.insert([{ name: "b", score: 2 }, { name: "c", score: 3 }])}`
        yield* s`UPDATE ${s(t)} SET ${s.update({ score: 10 })} WHERE name = ${"a"}`
        const inList = yield* s`SELECT name FROM ${s(t)} WHERE ${s.in("name", ["a", "c"])} ORDER BY id`
        const and = yield* s`SELECT name FROM ${s(t)} WHERE ${s.and([s`score > ${1}`, s`name <> ${"c"}`])} ORDER BY id`
        const or = yield* s`SELECT name FROM ${s(t)} WHERE ${s.or([s`name = ${"a"}`, s`name = ${"b"}`])} ORDER BY id`
        const csv = yield* s`SELECT ${s.csv(["name", "score"])} FROM ${s(t)} ORDER BY id`
        const literal = yield* s`SELECT ${s.literal("1 + 1")} AS two`
        const unsafe = yield* s.unsafe(`SELECT count(*)::int AS n FROM ${t} WHERE score > $1`, [1])
        const values = yield* s`SELECT name, score FROM ${s(t)} ORDER BY id`.values
        const unprepared = yield* s`SELECT name FROM ${s(t)} WHERE score = ${3}`.unprepared
        const returning = yield* s`INSERT INTO ${s(t)} ${s.insert({ name: "d", score: 4 })} RETURNING name, score`
        return { inList, and, or, csv, literal, unsafe, values, unprepared, returning }
      }))
      expect(result.ok).toMatchObject({ literal: [{ two: 2 }], unsafe: [{ n: 3 }] })
    }))

  it.live("types: json, arrays, bigint, numeric, dates, booleans, nulls, bytea", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const pg = yield* PgClient.PgClient
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (doc jsonb, tags text[], ns int[])`
        yield* s`INSERT INTO ${s(t)} ${s.insert({ doc: pg.json({ a: [1, { b: null }] }), tags: ["x", "y"], ns: [1, 2, 3] })}`
        const stored = yield* s`SELECT doc, tags, ns FROM ${s(t)}`
        const scalars = yield* s`SELECT 9007199254740993::bigint AS big, 12345.678::numeric AS num, 1.5::float8 AS f,
          '2024-02-29'::date AS d, '2024-02-29T12:34:56.789Z'::timestamptz AS ts, true AS yes, NULL::int AS nothing,
          '\\xdeadbeef'::bytea AS bytes, ${[1, 2]}::int[] AS param_array, ${"2024-01-01T00:00:00.000Z"}::timestamptz AS param_ts`
        return { stored, scalars }
      }))
    }))

  it.live("name transforms (camel/snake) on queries and results, and withoutTransform", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (first_name text, last_name text)`
        yield* s`INSERT INTO ${s(t)} ${s.insert({ firstName: "Grace", lastName: "Hopper" })}`
        const rows = yield* s`SELECT first_name, last_name FROM ${s(t)}`
        const raw = yield* s`SELECT first_name FROM ${s(t)}`.withoutTransform
        return { rows, raw }
      }), { transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel })
    }))

  it.live("transactions: commit, rollback on failure, nested savepoints, a typed failure inside", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (v int primary key)`
        yield* s.withTransaction(Effect.gen(function*() {
          yield* s`INSERT INTO ${s(t)} VALUES (1)`
          yield* s.withTransaction(Effect.zipRight(s`INSERT INTO ${s(t)} VALUES (2)`, Effect.fail("inner"))).pipe(Effect.ignore)
          yield* s`INSERT INTO ${s(t)} VALUES (3)`
        }))
        const rolledBack = yield* Effect.exit(s.withTransaction(Effect.zipRight(s`INSERT INTO ${s(t)} VALUES (4)`, Effect.fail("outer"))))
        const duplicate = yield* Effect.exit(s.withTransaction(s`INSERT INTO ${s(t)} VALUES (1)`))
        const rows = yield* s`SELECT v FROM ${s(t)} ORDER BY v`
        return { rows, rolledBack: rolledBack._tag, duplicate: duplicate._tag }
      }))
    }))

  it.live("streams: a cursor over many rows, taken in part and in full", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const all = yield* s`SELECT g AS n FROM generate_series(1, 2500) g`.stream.pipe(Stream.runCollect)
        const some = yield* s`SELECT g AS n FROM generate_series(1, 2500) g`.stream.pipe(Stream.take(3), Stream.runCollect)
        return { count: Chunk.size(all), last: Chunk.unsafeLast(all), some: Chunk.toArray(some) }
      }))
    }))

  it.live("SqlSchema, Model repositories and SqlResolver batching", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (id serial primary key, name text not null)`
        class Person extends Model.Class<Person>("Person")({ id: Model.Generated(Schema.Int), name: Schema.String }) {}
        const repo = yield* Model.makeRepository(Person, { tableName: t, spanPrefix: "people", idColumn: "id" })
        const ada = yield* repo.insert(Person.insert.make({ name: "Ada" }))
        yield* repo.insert(Person.insert.make({ name: "Alan" }))
        const found = yield* repo.findById(ada.id)
        const all = yield* SqlSchema.findAll({ Request: Schema.Void, Result: Person, execute: () => s`SELECT * FROM ${s(t)} ORDER BY id` })(undefined)
        const single = yield* Effect.exit(SqlSchema.single({ Request: Schema.Int, Result: Person, execute: (id) => s`SELECT * FROM ${s(t)} WHERE id = ${id}` })(999))
        const resolver = yield* SqlResolver.findById(`${t}_by_id`, {
          Id: Schema.Int,
          Result: Person,
          ResultId: (p) => p.id,
          execute: (ids) => s`SELECT * FROM ${s(t)} WHERE ${s.in("id", ids)}`
        })
        const batched = yield* Effect.forEach([1, 2, 3], (id) => resolver.execute(id), { batching: true })
        return { found, all, single: single._tag, batched }
      }))
    }))

  it.live("migrations with PgMigrator", () =>
    Effect.gen(function*() {
      const result = yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        const ran = yield* PgMigrator.run({
          loader: PgMigrator.fromRecord({ "1_create": s`CREATE TABLE ${s(t)} (id int)`, "2_seed": s`INSERT INTO ${s(t)} VALUES (7)` }),
          table: `${t}_migrations`
        })
        const again = yield* PgMigrator.run({ loader: PgMigrator.fromRecord({ "1_create": s`SELECT 1` }), table: `${t}_migrations` })
        return { ran: ran.map(([id, name]) => [id, name]), again, rows: yield* s`SELECT id FROM ${s(t)}` }
      }).pipe(Effect.provide(NodeContext.layer)))
      expect(result.ok).toEqual({ ran: [[1, "create"], [2, "seed"]], again: [], rows: [{ id: 7 }] })
    }))

  it.live("PgClient.listen (notifications sent with pg_notify)", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const pg = yield* PgClient.PgClient
        const s = yield* sql
        const channel = `chan_${Date.now()}_${Math.round(Math.random() * 1e6)}`
        const received = yield* Effect.fork(pg.listen(channel).pipe(Stream.take(1), Stream.runCollect))
        // LISTEN is in place once a notification arrives: notify until one does (an event, not a margin)
        const sender = yield* Effect.fork(Effect.forever(Effect.zipRight(s`SELECT pg_notify(${channel}, 'hello')`, Effect.sleep("50 millis"))))
        const got = yield* Fiber.join(received)
        yield* Fiber.interrupt(sender)
        return Chunk.toArray(got)
      }))
    }), 30_000)

  // a known difference (README): @effect/sql-pg 0.53's notify sends `NOTIFY channel, $1`, which
  // Postgres rejects (NOTIFY takes no parameters); ours sends pg_notify($1, $2)
  it.live("PgClient.notify: fails on PgClient.layer (a syntax error), works on PgPool.layer", () =>
    Effect.gen(function*() {
      const results: Record<string, unknown> = {}
      for (const [name, layer] of Object.entries(layers())) {
        results[name] = outcome(yield* Effect.exit(Effect.flatMap(PgClient.PgClient, (pg) => pg.notify("some_channel", "payload")).pipe(Effect.provide(Layer.fresh(layer)))))
      }
      expect(results["PgClient.layer"]).toMatchObject({ failed: { tag: "SqlError", message: "Failed to notify" } })
      expect(results["PgPool.layer"]).toEqual({})
    }))

  it.live("errors: syntax errors, constraint violations and unknown tables fail the same way", () =>
    Effect.gen(function*() {
      yield* same(Effect.gen(function*() {
        const s = yield* sql
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (v int primary key)`
        yield* s`INSERT INTO ${s(t)} VALUES (1)`
        const results = yield* Effect.all([
          Effect.exit(s`SELEC 1`),
          Effect.exit(s`INSERT INTO ${s(t)} VALUES (1)`),
          Effect.exit(s`SELECT * FROM no_such_table_here`)
        ])
        return results.map((exit) => exit._tag === "Failure" && exit.cause._tag === "Fail" ? (exit.cause.error as any)._tag : exit._tag)
      }))
    }))
})
