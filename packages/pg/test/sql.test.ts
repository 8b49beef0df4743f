/** Everything @effect/sql-pg users write keeps working on the pool. */
import { describe, expect, it, layer } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { Model, SqlClient, SqlSchema } from "@effect/sql"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { NodeContext } from "@effect/platform-node"
import { Cause, Chunk, Effect, Fiber, Layer, Schema, Stream, String as Str } from "effect"
import { poolLayer, table } from "./helpers.js"

/** Real servers, real time: no TestClock. */
const live = { excludeTestServices: true } as const
const Live = poolLayer({ name: "sql-test", max: 4 })

describe("SqlClient on the pool", () => {
  // real servers, real time: no TestClock here
  layer(Live, live)((it) => {
    it.effect("runs the sql template with parameters and helpers", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgClient.PgClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (id serial primary key, name text not null, meta jsonb)`
        yield* sql`INSERT INTO ${sql(t)} ${sql.insert([{ name: "a", meta: pg.json({ x: 1 }) }, { name: "b", meta: null }])}`
        const rows = yield* sql<{ id: number; name: string; meta: unknown }>`SELECT * FROM ${sql(t)} WHERE ${sql.in("name", ["a", "b"])} ORDER BY id`
        expect(rows.map((r) => r.name)).toEqual(["a", "b"])
        expect(rows[0].meta).toEqual({ x: 1 })
        yield* sql`UPDATE ${sql(t)} SET ${sql.update({ name: "c" })} WHERE id = ${rows[0].id}`
        const values = yield* sql`SELECT name FROM ${sql(t)} ORDER BY id`.values
        expect(values).toEqual([["c"], ["b"]])
        const unprepared = yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`.unprepared
        expect(unprepared).toEqual([{ n: 2 }])
      }))

    it.effect("nested transactions use savepoints; an inner failure rolls back only the inner part", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
          yield* sql.withTransaction(Effect.zipRight(sql`INSERT INTO ${sql(t)} VALUES (2)`, Effect.fail("inner"))).pipe(Effect.ignore)
          yield* sql`INSERT INTO ${sql(t)} VALUES (3)`
        }))
        const failed = yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO ${sql(t)} VALUES (4)`, Effect.fail("outer"))))
        expect(failed._tag).toBe("Failure")
        const rows = yield* sql<{ v: number }>`SELECT v FROM ${sql(t)} ORDER BY v`
        expect(rows.map((r) => r.v)).toEqual([1, 3])
      }))

    it.effect("streams a large result through a cursor", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql`SELECT g AS n FROM generate_series(1, 1000) g`.stream.pipe(Stream.runCollect)
        expect(Chunk.size(rows)).toBe(1000)
        expect(Chunk.unsafeLast(rows)).toEqual({ n: 1000 })
      }))

    it.effect("SqlSchema and Model work unchanged", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (id serial primary key, name text not null)`
        class Person extends Model.Class<Person>("Person")({ id: Model.Generated(Schema.Int), name: Schema.String }) {}
        const insert = SqlSchema.single({
          Request: Person.insert,
          Result: Person,
          execute: (p) => sql`INSERT INTO ${sql(t)} ${sql.insert(p)} RETURNING *`
        })
        const byId = SqlSchema.findOne({ Request: Schema.Int, Result: Person, execute: (id) => sql`SELECT * FROM ${sql(t)} WHERE id = ${id}` })
        const ada = yield* insert(Person.insert.make({ name: "Ada" }))
        const found = yield* byId(ada.id)
        expect(found._tag === "Some" && found.value.name).toBe("Ada")
      }))

    it.effect("LISTEN / NOTIFY through PgClient", () =>
      Effect.gen(function*() {
        const pg = yield* PgClient.PgClient
        const channel = `chan_${Date.now()}`
        const received = yield* Effect.fork(pg.listen(channel).pipe(Stream.take(2), Stream.runCollect))
        yield* Effect.sleep("200 millis")
        yield* pg.notify(channel, "one")
        yield* pg.notify(channel, "two")
        expect(Chunk.toReadonlyArray(yield* Fiber.join(received))).toEqual(["one", "two"])
      }), 20_000)

    it.effect("reports the pool's stats through PgPool", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        // two connections held at once (not two sleeps that may share one connection when the
        // second connection is still being opened as the first sleep ends)
        yield* Effect.scoped(Effect.all([sql.reserve, sql.reserve]))
        const stats = yield* pg.stats
        expect(stats.name).toBe("sql-test")
        expect(stats.size).toBeGreaterThanOrEqual(2)
        expect(stats.max).toBe(4)
        expect(stats.borrowed).toBe(0)
      }))
  })

  it.live("name transforms apply to queries and results", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const t = table()
      yield* sql`CREATE TABLE ${sql(t)} (first_name text)`
      yield* sql`INSERT INTO ${sql(t)} ${sql.insert({ firstName: "Grace" })}`
      const rows = yield* sql`SELECT first_name FROM ${sql(t)}`
      expect(rows).toEqual([{ firstName: "Grace" }])
    }).pipe(Effect.provide(poolLayer({ transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel }))))

  it.live("a result transform that throws is a SqlError of that statement (issue 17: never a defect); the connection goes back and the pool carries on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pool = yield* PgPool.PgPool
      const exit = yield* Effect.exit(sql`SELECT 1 AS boom`)
      expect(exit._tag).toBe("Failure")
      expect(exit._tag === "Failure" && Cause.isFailType(exit.cause) ? exit.cause.error._tag : "").toBe("SqlError")
      expect(exit._tag === "Failure" ? String(Cause.squash(exit.cause)) : "").toMatch(/cannot name boom/)
      expect(yield* sql`SELECT 2 AS fine`).toEqual([{ fine: 2 }])
      expect((yield* pool.stats).borrowed).toBe(0)
    }).pipe(Effect.provide(poolLayer({
      max: 1,
      transformResultNames: (name) => {
        if (name === "boom") throw new Error("cannot name boom")
        return name
      }
    }))))

  it.live("the Migrator runs on the pool", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const t = table()
      const ran = yield* PgMigrator.run({
        loader: PgMigrator.fromRecord({ "1_create": sql`CREATE TABLE ${sql(t)} (id int)`, "2_seed": sql`INSERT INTO ${sql(t)} VALUES (7)` }),
        table: `${t}_migrations`
      })
      expect(ran.map(([id]) => id)).toEqual([1, 2])
      expect(yield* sql`SELECT id FROM ${sql(t)}`).toEqual([{ id: 7 }])
    }).pipe(Effect.provide(Layer.merge(Layer.fresh(Live), NodeContext.layer))))
})
