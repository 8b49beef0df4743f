/**
 * Conformance: the `effect/sql` surface, run by the same code against @effect/sql-pg 4's own
 * `PgClient.layer` and `PgPool.layer` (each without and with `multiplex`), asserting the same
 * outcome. A new gap between the two is found here first; known differences are in the README.
 */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Layer, Queue, Redacted, Schema, Stream, String as Str } from "effect"
import { SqlClient, SqlSchema } from "effect/sql"
import { pgUrl, table } from "./helpers.js"

type Env = SqlClient.SqlClient | PgClient.PgClient

const layers = (options: Partial<PgClient.PgPoolConfig>): Record<string, Layer.Layer<Env, unknown>> => ({
  theirs: PgClient.layer({ url: Redacted.make(pgUrl()), maxConnections: 4, ...options }),
  ours: PgPool.layer({ url: Redacted.make(pgUrl()), max: 4, ...options })
})

/** An outcome as comparable data: values (bigints as text) or the error's tag, reason tag and message. */
const outcome = (exit: Exit.Exit<unknown, unknown>): unknown => {
  const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  const error = failure?._tag === "Fail" ? failure.error as any : undefined
  return JSON.parse(JSON.stringify(
    Exit.isSuccess(exit)
      ? { ok: exit.value }
      : { failed: error !== undefined ? { tag: error._tag, reason: error.reason?._tag, message: String(error.message) } : failure?._tag },
    (_, value) => (typeof value === "bigint" ? `${value}n` : value)
  ))
}

/** Runs `program` on both layers (without and with multiplex) and expects the same outcome; returns it. */
const same = (program: Effect.Effect<unknown, unknown, Env>, options: Partial<PgClient.PgPoolConfig> = {}) =>
  Effect.gen(function*() {
    let result: { ok?: unknown; failed?: unknown } | undefined
    for (const multiplex of [false, true]) {
      const results: Record<string, unknown> = {}
      for (const [name, layer] of Object.entries(layers({ ...options, multiplex }))) {
        results[name] = outcome(yield* Effect.exit(Effect.provide(program, Layer.fresh(layer))))
      }
      expect(results.ours, `multiplex: ${multiplex}`).toEqual(results.theirs)
      result = results.ours as typeof result
    }
    return result!
  })

const sql = SqlClient.SqlClient

describe("conformance: effect/sql on PgClient.layer and PgPool.layer", () => {
  it.live("statement helpers: insert, update, in, and, or, csv, literal, unsafe, values, unprepared, returning", () =>
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

  it.live("types: json, arrays, bigint, numeric, dates, booleans, nulls, bytea, array and timestamp parameters", () =>
    Effect.gen(function*() {
      const result = yield* same(Effect.gen(function*() {
        const s = yield* sql
        const pg = yield* PgClient.PgClient
        const t = table()
        yield* s`CREATE TABLE ${s(t)} (doc jsonb, tags text[], ns int[])`
        yield* s`INSERT INTO ${s(t)} ${s.insert({ doc: pg.json({ a: [1, { b: null }] }), tags: ["x", "y"], ns: [1, 2, 3] })}`
        const stored = yield* s`SELECT doc, tags, ns FROM ${s(t)}`
        const scalars = yield* s`SELECT 9007199254740993::bigint AS big, 12345.678::numeric AS num, 1.5::float8 AS f,
          '2024-02-29'::date AS d, '2024-02-29T12:34:56.789Z'::timestamptz AS ts, true AS yes, NULL::int AS nothing,
          '\\xdeadbeef'::bytea AS bytes, ${[1, 2]}::int[] AS param_array, ${new Date("2024-01-01T00:00:00.000Z")}::timestamptz AS param_ts`
        return { stored, scalars }
      }))
      expect(result.ok).toBeDefined()
    }))

  it.live("name transforms (camel/snake) on queries and results, and withoutTransform", () =>
    same(Effect.gen(function*() {
      const s = yield* sql
      const t = table()
      yield* s`CREATE TABLE ${s(t)} (first_name text, last_name text)`
      yield* s`INSERT INTO ${s(t)} ${s.insert({ firstName: "Grace", lastName: "Hopper" })}`
      const rows = yield* s`SELECT first_name, last_name FROM ${s(t)}`
      const raw = yield* s`SELECT first_name FROM ${s(t)}`.withoutTransform
      return { rows, raw }
    }), { transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel }))

  it.live("transactions: commit, rollback on failure, nested savepoints, a typed failure inside", () =>
    same(Effect.gen(function*() {
      const s = yield* sql
      const t = table()
      yield* s`CREATE TABLE ${s(t)} (v int primary key)`
      yield* s.withTransaction(Effect.gen(function*() {
        yield* s`INSERT INTO ${s(t)} VALUES (1)`
        yield* s.withTransaction(Effect.andThen(s`INSERT INTO ${s(t)} VALUES (2)`, Effect.fail("inner"))).pipe(Effect.ignore)
        yield* s`INSERT INTO ${s(t)} VALUES (3)`
      }))
      const rolledBack = yield* Effect.exit(s.withTransaction(Effect.andThen(s`INSERT INTO ${s(t)} VALUES (4)`, Effect.fail("outer"))))
      const duplicate = yield* Effect.exit(s.withTransaction(s`INSERT INTO ${s(t)} VALUES (1)`))
      const rows = yield* s`SELECT v FROM ${s(t)} ORDER BY v`
      return { rows, rolledBack: rolledBack._tag, duplicate: outcome(duplicate) }
    })))

  it.live("streams: many rows, taken in part and in full, inside and outside a transaction", () =>
    same(Effect.gen(function*() {
      const s = yield* sql
      const all = yield* Stream.runCollect(s`SELECT g AS n FROM generate_series(1, 2000) g`.stream)
      const part = yield* Stream.runCollect(Stream.take(s`SELECT g AS n FROM generate_series(1, 2000) g`.stream, 5))
      const inTx = yield* s.withTransaction(Stream.runCollect(s`SELECT g AS n FROM generate_series(1, 10) g`.stream))
      return { all: all.length, last: all[all.length - 1], part, inTx: inTx.length }
    })))

  it.live("SqlSchema", () =>
    same(Effect.gen(function*() {
      const s = yield* sql
      const t = table()
      yield* s`CREATE TABLE ${s(t)} (id serial primary key, name text not null)`
      const insert = SqlSchema.findOne({
        Request: Schema.String,
        Result: Schema.Struct({ id: Schema.Int, name: Schema.String }),
        execute: (name) => s`INSERT INTO ${s(t)} ${s.insert({ name })} RETURNING *`
      })
      const all = SqlSchema.findAll({ Request: Schema.Void, Result: Schema.Struct({ name: Schema.String }), execute: () => s`SELECT name FROM ${s(t)} ORDER BY id` })
      yield* insert("Ada")
      yield* insert("Grace")
      return yield* all(undefined)
    })))

  it.live("PgClient.listen / notify", () =>
    same(Effect.scoped(Effect.gen(function*() {
      const pg = yield* PgClient.PgClient
      const channel = `conf_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
      const queue = yield* pg.listen(channel)
      yield* pg.notify(channel, "hello")
      const message = yield* Queue.take(queue)
      return message.payload
    }))))

  it.live("errors: syntax errors, constraint violations and unknown tables fail the same way", () =>
    same(Effect.gen(function*() {
      const s = yield* sql
      const t = table()
      yield* s`CREATE TABLE ${s(t)} (v int primary key)`
      yield* s`INSERT INTO ${s(t)} VALUES (1)`
      const results = yield* Effect.all([
        Effect.exit(s`SELEC 1`),
        Effect.exit(s`INSERT INTO ${s(t)} VALUES (1)`),
        Effect.exit(s`SELECT * FROM no_such_table_here`)
      ])
      return results.map((exit) => {
        const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        return failure?._tag === "Fail" ? [(failure.error as any)._tag, (failure.error as any).reason?._tag] : exit._tag
      })
    })))
})
