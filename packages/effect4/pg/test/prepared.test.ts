/**
 * Prepared statements through the pool: each pooled session keeps @effect/sql-pg 4's cache of
 * named statements; when the server's copy goes stale (a table changes shape, a session loses its
 * statements) the statement still succeeds, on every connection of the pool.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { poolLayer, table } from "./helpers.js"

describe("prepared statements on pooled sessions", () => {
  it.live("a table that changes shape under a prepared statement: the next runs still succeed, on every connection", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const t = table()
      yield* sql`CREATE TABLE ${sql(t)} (id int primary key, name text)`
      yield* sql`INSERT INTO ${sql(t)} VALUES (1, 'a')`
      const select = Effect.all(Array.from({ length: 6 }, () => sql`SELECT * FROM ${sql(t)} WHERE id = ${1}`), { concurrency: 3 })
      // prepared on the pool's connections
      yield* select
      yield* select
      yield* sql`ALTER TABLE ${sql(t)} ADD COLUMN extra int DEFAULT 7`
      const after = yield* select
      for (const rows of after) expect(rows).toEqual([{ id: 1, name: "a", extra: 7 }])
    }).pipe(Effect.provide(poolLayer({ name: "prepared-shape", max: 3 }))))

  it.live("a session that lost its statements (DEALLOCATE ALL) keeps working", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const one = sql<{ n: number }>`SELECT ${1}::int AS n`
      yield* one
      yield* one
      yield* sql`DEALLOCATE ALL`.unprepared
      expect(yield* one).toEqual([{ n: 1 }])
      expect(yield* one).toEqual([{ n: 1 }])
    }).pipe(Effect.provide(poolLayer({ name: "prepared-lost", max: 1 }))))

  it.live("prepare: false never names a statement (for statement-mode poolers)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (let i = 0; i < 5; i++) yield* sql`SELECT ${i}::int AS n`
      const prepared = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`
      expect(prepared).toEqual([{ n: 0 }])
    }).pipe(Effect.provide(poolLayer({ name: "prepared-off", max: 1, prepare: false }))))

  it.live("by default statements are prepared once per session and reused", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (let i = 0; i < 5; i++) yield* sql`SELECT ${i}::int AS n`
      const prepared = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int AS n%'`
      expect(prepared).toEqual([{ n: 1 }])
    }).pipe(Effect.provide(poolLayer({ name: "prepared-on", max: 1 }))))
})
