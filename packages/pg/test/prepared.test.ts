/** Named prepared statements: prepared after the threshold, kept correct when the server's copy goes stale. */
import { describe, expect, it, layer } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { makePreparedStatements, staleStatement } from "../src/internal/prepared.js"
import { poolLayer, table } from "./helpers.js"

const live = { excludeTestServices: true } as const

/** The named statements of the session that runs this (max: 1, so always the same one). */
const preparedHere = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements ORDER BY name`)

/**
 * A lookup run past the threshold (so prepared), then its table gains a column: the statement
 * the server holds no longer fits. Returns the lookup.
 */
const preparedThenAltered = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const t = table()
  yield* sql`CREATE TABLE ${sql(t)} (id int primary key, a text)`
  yield* sql`INSERT INTO ${sql(t)} VALUES (1, 'x')`
  const row = sql<Record<string, unknown>>`SELECT * FROM ${sql(t)} WHERE id = ${1}`
  for (let i = 0; i < 6; i++) expect(yield* row).toEqual([{ id: 1, a: "x" }])
  yield* sql`ALTER TABLE ${sql(t)} ADD COLUMN b int DEFAULT 7`
  return row
})

describe("prepared statements", () => {
  it("the registry: a name from the threshold-th run, one per text, at most max, a new one after forget", () => {
    const registry = makePreparedStatements(2, 2)
    expect(registry.nameFor("a $1", true)).toBeUndefined()
    const a = registry.nameFor("a $1", true)
    expect(a).toBeDefined()
    expect(registry.nameFor("a $1", true)).toBe(a)
    expect(registry.nameFor("no params", false)).toBeUndefined()
    expect(registry.nameFor("no params", false)).toBeUndefined()
    registry.nameFor("b $1", true)
    const b = registry.nameFor("b $1", true)
    expect(b).toBeDefined()
    expect(b).not.toBe(a)
    // the cap: a third text stays unnamed however often it runs
    for (let i = 0; i < 5; i++) expect(registry.nameFor("c $1", true)).toBeUndefined()
    registry.forget("a $1", a!)
    registry.nameFor("a $1", true)
    const renamed = registry.nameFor("a $1", true)
    expect(renamed).toBeDefined()
    expect([a, b]).not.toContain(renamed)
    // a late failure under the old name does not drop the new one
    registry.forget("a $1", a!)
    expect(registry.nameFor("a $1", true)).toBe(renamed)
    expect(makePreparedStatements(0, 256).nameFor("a $1", true)).toBeUndefined()
  })

  it("stale statements are recognised by their server error", () => {
    expect(staleStatement({ code: "0A000", message: "cached plan must not change result type" })).toBe("changed")
    expect(staleStatement({ code: "26000", message: "prepared statement \"x\" does not exist" })).toBe("missing")
    expect(staleStatement({ code: "0A000", message: "something else not supported" })).toBeUndefined()
    expect(staleStatement({ code: "42P01", message: "relation does not exist" })).toBeUndefined()
  })

  layer(poolLayer({ name: "prepared", max: 1 }), live)((it) => {
    it.effect("a statement with parameters is prepared on its 5th run; statements without parameters never", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const lookup = (n: number) => sql<{ n: number }>`SELECT ${n}::int + 1 AS n`
        for (let i = 0; i < 4; i++) expect(yield* lookup(i)).toEqual([{ n: i + 1 }])
        expect(yield* preparedHere).toEqual([])
        for (let i = 4; i < 10; i++) expect(yield* lookup(i)).toEqual([{ n: i + 1 }])
        const prepared = yield* preparedHere
        expect(prepared).toHaveLength(1)
        expect(prepared[0].statement).toBe("SELECT $1::int + 1 AS n")
        // no parameters: simple protocol, several commands allowed, never prepared
        for (let i = 0; i < 6; i++) yield* sql`SELECT 1; SELECT 2`
        expect(yield* preparedHere).toHaveLength(1)
      }))

    it.effect("a table changing shape under a prepared statement: the next run re-prepares, the caller sees no error", () =>
      Effect.gen(function*() {
        const row = yield* preparedThenAltered
        // the server refuses the old plan ("cached plan must not change result type"); resent
        expect(yield* row).toEqual([{ id: 1, a: "x", b: 7 }])
        expect(yield* row).toEqual([{ id: 1, a: "x", b: 7 }])
      }))

    it.effect("inside a transaction a stale statement fails it (the server aborted it); the next run re-prepares", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const row = yield* preparedThenAltered
        const error = yield* Effect.flip(sql.withTransaction(row))
        expect(error._tag).toBe("SqlError")
        expect(String((error.cause as Error).message)).toMatch(/cached plan must not change result type/)
        expect(yield* sql.withTransaction(row)).toEqual([{ id: 1, a: "x", b: 7 }])
      }))

    it.effect("a session that lost its prepared statements (DEALLOCATE ALL): the next run succeeds on a new connection", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const lookup = sql<{ n: number }>`SELECT ${41}::int + 1 AS n`
        for (let i = 0; i < 6; i++) yield* lookup
        const destroyed = (yield* pg.stats).destroyed
        yield* sql`DEALLOCATE ALL`.unprepared
        expect(yield* lookup).toEqual([{ n: 42 }])
        // pg's record of what that session had prepared was wrong: the connection was replaced
        expect((yield* pg.stats).destroyed).toBe(destroyed + 1)
      }))
  })

  layer(poolLayer({ name: "prepared-off", max: 1, prepareThreshold: 0 }), live)((it) => {
    it.effect("prepareThreshold: 0 never prepares", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        for (let i = 0; i < 10; i++) yield* sql`SELECT ${i}::int AS n`
        expect(yield* preparedHere).toEqual([])
      }))
  })
})
