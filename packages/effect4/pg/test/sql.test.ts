/** Everything @effect/sql-pg 4 users write keeps working on the pool. */
import { describe, expect, it, layer } from "@effect/vitest"
import { Pool } from "@effect-pool/core"
import { PgPool } from "@effect-pool/pg"
import { PgClient } from "@effect/sql-pg"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Metric, Queue, Redacted, Schema, Scope, Stream, String as Str } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { Migrator, SqlClient, SqlSchema } from "effect/sql"
import { admin, eventually, pgUrl, poolLayer, table } from "./helpers.js"

/** Real servers, real time: no TestClock. */
const live = { excludeTestServices: true } as const

for (const multiplex of [false, true]) {
  const Live = poolLayer({ name: `sql-test-${multiplex ? "mux" : "plain"}`, max: 4, multiplex })
  describe(`SqlClient on the pool (multiplex: ${multiplex})`, () => {
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
          expect(rows[0]!.meta).toEqual({ x: 1 })
          yield* sql`UPDATE ${sql(t)} SET ${sql.update({ name: "c" })} WHERE id = ${rows[0]!.id}`
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
            yield* sql.withTransaction(Effect.andThen(sql`INSERT INTO ${sql(t)} VALUES (2)`, Effect.fail("inner"))).pipe(Effect.ignore)
            yield* sql`INSERT INTO ${sql(t)} VALUES (3)`
          }))
          const failed = yield* Effect.exit(sql.withTransaction(Effect.andThen(sql`INSERT INTO ${sql(t)} VALUES (4)`, Effect.fail("outer"))))
          expect(failed._tag).toBe("Failure")
          const rows = yield* sql<{ v: number }>`SELECT v FROM ${sql(t)} ORDER BY v`
          expect(rows.map((r) => r.v)).toEqual([1, 3])
        }))

      it.effect("a transaction holds one connection: every statement in it sees the same backend", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const pids = yield* sql.withTransaction(Effect.all(
            Array.from({ length: 8 }, () => Effect.map(sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`, (r) => r[0]!.pid)),
            { concurrency: 4 }
          ))
          expect(new Set(pids).size).toBe(1)
        }))

      it.effect("streams a large result", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql`SELECT g AS n FROM generate_series(1, 1000) g`.stream.pipe(Stream.runCollect)
          expect(rows.length).toBe(1000)
          expect(rows[999]).toEqual({ n: 1000 })
        }))

      it.effect("reserve hands one connection for the scope", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const conn = yield* sql.reserve
          const a = yield* conn.execute("SELECT pg_backend_pid() AS pid", [], undefined)
          const b = yield* conn.execute("SELECT pg_backend_pid() AS pid", [], undefined)
          expect(a).toEqual(b)
        }).pipe(Effect.scoped))

      it.effect("SqlSchema works unchanged", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const t = table()
          yield* sql`CREATE TABLE ${sql(t)} (id serial primary key, name text not null)`
          const Person = Schema.Struct({ id: Schema.Int, name: Schema.String })
          const insert = SqlSchema.findOne({
            Request: Schema.String,
            Result: Person,
            execute: (name) => sql`INSERT INTO ${sql(t)} ${sql.insert({ name })} RETURNING *`
          })
          const ada = yield* insert("Ada")
          expect(ada.name).toBe("Ada")
        }))

      it.effect("LISTEN / NOTIFY through PgClient", () =>
        Effect.gen(function*() {
          const pg = yield* PgClient.PgClient
          const channel = `chan_${Date.now()}_${multiplex}`
          const queue = yield* pg.listen(channel)
          yield* pg.notify(channel, "one")
          yield* pg.notify(channel, "two")
          const first = yield* Queue.take(queue)
          const second = yield* Queue.take(queue)
          expect([first.payload, second.payload]).toEqual(["one", "two"])
        }).pipe(Effect.scoped), 20_000)

      it.effect("reports the pool's stats through PgPool", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const pg = yield* PgPool.PgPool
          yield* sql.withTransaction(Effect.all([sql`SELECT pg_sleep(0.01)`], { concurrency: 2 }))
          yield* Effect.scoped(Effect.all([sql.reserve, sql.reserve]))
          const stats = yield* pg.stats
          expect(stats.size).toBeGreaterThanOrEqual(2)
          expect(stats.max).toBe(4)
          expect(stats.borrowed).toBe(0)
        }))

      it.effect("many concurrent statements all answer, the pool stays within max", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const pg = yield* PgPool.PgPool
          const rows = yield* Effect.all(Array.from({ length: 100 }, (_, i) => sql<{ n: number }>`SELECT ${i}::int AS n`), { concurrency: 50 })
          expect(rows.map((r) => r[0]!.n)).toEqual(Array.from({ length: 100 }, (_, i) => i))
          expect((yield* pg.stats).size).toBeLessThanOrEqual(4)
        }))
    })
  })
}

describe("SqlClient on the pool", () => {
  it.live("a transaction on a multiplexed pool never waits behind, nor shares with, pipelined statements", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const inside = yield* Deferred.make<number>()
      const tx = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        const [row] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
        yield* Deferred.succeed(inside, row!.pid)
        yield* Effect.never
      })))
      const txPid = yield* Deferred.await(inside)
      // while the transaction holds its connection, statements run elsewhere and do not wait
      const pids = yield* Effect.all(Array.from({ length: 20 }, () => Effect.map(sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`, (r) => r[0]!.pid)), { concurrency: 20 })
      expect(pids).not.toContain(txPid)
      yield* Fiber.interrupt(tx)
    }).pipe(Effect.provide(poolLayer({ name: "sql-mux-tx", max: 2, multiplex: true }))))

  it.live("multiplex: true pipelines on the driver: statements of many fibers share the pool's one connection", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pg = yield* PgPool.PgPool
      // the sessions themselves are multiplexed (not only our seats): a session that serialised
      // its statements would still pass the rest of this test, slowly
      expect(yield* Pool.use(pg.pool, (conn: PgPool.PooledConnection) => Effect.succeed(conn.pg.config.multiplex))).toBe(true)
      const pids = yield* Effect.all(Array.from({ length: 32 }, () => Effect.map(sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`, (r) => r[0]!.pid)), { concurrency: 32 })
      expect(new Set(pids).size).toBe(1)
      expect((yield* pg.stats).size).toBe(1)
    }).pipe(Effect.provide(poolLayer({ name: "sql-mux-one", max: 1, multiplex: true }))))

  it.live("multiplex: a shared connection takes new statements for one turn only; then they go to another (not queued behind a slow one)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const slow = yield* Effect.forkChild(sql`SELECT pg_sleep(5)`)
      // the seat's turn starts when it is handed its connection, before the statement is sent: once
      // the server runs the sleep, 1.2 s later the seat is past its turn (a lower bound, not a race)
      yield* eventually("the slow statement runs", Effect.map(admin((c) =>
        c.query("select count(*)::int as n from pg_stat_activity where application_name = 'sql-mux-turn' and query like '%pg_sleep%' and state = 'active'", [])), (r) => Number(r.rows[0]!.n) === 1))
      yield* Effect.sleep("1200 millis")
      const fast = yield* sql<{ one: number }>`SELECT 1 AS one`
      expect(fast).toEqual([{ one: 1 }])
      // answered on the other connection while the slow one still runs (without turns it would
      // have been pipelined behind the sleep)
      expect(slow.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(slow)
    }).pipe(Effect.provide(poolLayer({ name: "sql-mux-turn", max: 2, multiplex: true }))), 30_000)

  it.live("multiplex: statements whose seat cannot get a connection fail with the pool's error — riders that waited together, and at once on a closed pool", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pg = yield* PgPool.PgPool
      // the connection exists before the transaction takes it (its creation is not what times out)
      yield* Pool.awaitMin(pg.pool)
      // the one connection is held exclusively: new statements wait on a seat, together
      const inside = yield* Deferred.make<void>()
      const tx = yield* Effect.forkChild(sql.withTransaction(Effect.andThen(Deferred.succeed(inside, undefined), Effect.never)))
      yield* Deferred.await(inside)
      const waited = yield* Effect.all(Array.from({ length: 3 }, () => Effect.flip(sql`SELECT 1`)), { concurrency: 3 })
      for (const error of waited) {
        expect(error._tag).toBe("SqlError")
        expect((error.reason as { cause?: { _tag?: string } }).cause?._tag).toBe("PoolTimeoutError")
      }
      yield* Fiber.interrupt(tx)
      // nothing left waiting or held; the seat logic carries on
      expect(yield* sql<{ one: number }>`SELECT 1 AS one`).toEqual([{ one: 1 }])
      const stats = yield* pg.stats
      expect([stats.borrowed, stats.waiting]).toEqual([0, 0])
    }).pipe(Effect.provide(poolLayer({ name: "sql-mux-wait", min: 1, max: 1, multiplex: true, acquireTimeout: "300 millis" }))))

  it.live("multiplex: a statement on a closed pool fails at once with a SqlError naming PoolClosedError", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { client } = yield* Scope.provide(PgPool.make({ url: Redacted.make(pgUrl()), name: "sql-mux-closed", multiplex: true }), scope)
      expect(yield* client<{ one: number }>`SELECT 1 AS one`).toEqual([{ one: 1 }])
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(client`SELECT 1`)
      expect(error._tag).toBe("SqlError")
      expect((error.reason as { cause?: { _tag?: string } }).cause?._tag).toBe("PoolClosedError")
    }).pipe(Effect.provide(Reactivity.layer)))

  it.live("the pool's metrics carry its name as an attribute", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pg = yield* PgPool.PgPool
      yield* Effect.all(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(0.01)`), { concurrency: 4 })
      yield* pg.stats // refreshes the gauges
      const snapshots = yield* Metric.snapshot
      const ours = snapshots.filter((m) => (m.attributes as Record<string, unknown> | undefined)?.pool === "sql-metrics")
      const ids = new Set(ours.map((m) => m.id))
      for (const id of ["effect_pool_size", "effect_pool_idle", "effect_pool_borrowed", "effect_pool_created_total", "effect_pool_borrows_total"]) {
        expect(ids.has(id), id).toBe(true)
      }
      const created = ours.find((m) => m.id === "effect_pool_created_total")!
      expect((created.state as { count: number }).count).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(poolLayer({ name: "sql-metrics", max: 4 }))))

  it.live("name transforms apply to queries and results", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const t = table()
      yield* sql`CREATE TABLE ${sql(t)} (first_name text)`
      yield* sql`INSERT INTO ${sql(t)} ${sql.insert({ firstName: "Grace" })}`
      const rows = yield* sql`SELECT first_name FROM ${sql(t)}`
      expect(rows).toEqual([{ firstName: "Grace" }])
    }).pipe(Effect.provide(poolLayer({ transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel }))))

  it.live("a failing statement is a SqlError; the connection goes back and the pool carries on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pool = yield* PgPool.PgPool
      const exit = yield* Effect.exit(sql`SELECT * FROM no_such_table_here`)
      expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "SqlError" })
      expect(yield* sql`SELECT 2 AS fine`).toEqual([{ fine: 2 }])
      expect((yield* pool.stats).borrowed).toBe(0)
    }).pipe(Effect.provide(poolLayer({ max: 1 }))))

  it.live("the Migrator runs on the pool", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const t = table()
      // PgMigrator.run is Migrator.make with a pg_dump schema dump: the migrations are the same
      const ran = yield* Migrator.make({})({
        loader: Migrator.fromRecord({ "1_create": sql`CREATE TABLE ${sql(t)} (id int)`, "2_seed": sql`INSERT INTO ${sql(t)} VALUES (7)` }),
        table: `${t}_migrations`
      })
      expect(ran.map(([id]) => id)).toEqual([1, 2])
      expect(yield* sql`SELECT id FROM ${sql(t)}`).toEqual([{ id: 7 }])
    }).pipe(Effect.provide(Layer.fresh(poolLayer({ max: 2 })))))
})
