/**
 * `npm run pg -w @effect-pool/examples`: @effect/sql code on @effect-pool/pg, on an embedded
 * Postgres (or DATABASE_URL). The program is plain @effect/sql; only the layer is ours.
 */
import { PgPool } from "@effect-pool/pg"
import { SqlClient } from "@effect/sql"
import { Effect, type Layer, Redacted } from "effect"
import { databaseUrl } from "./postgres.js"

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS people (id serial primary key, name text not null)`
  yield* sql.withTransaction(sql`INSERT INTO people ${sql.insert([{ name: "Ada" }, { name: "Grace" }])}`)
  const people = yield* sql<{ id: number; name: string }>`SELECT id, name FROM people ORDER BY id`
  const pool = yield* PgPool.PgPool
  const stats = yield* pool.stats
  console.log(people)
  console.log(`pool "${stats.name}": ${stats.size} connection(s), ${stats.borrows} borrows, ${stats.created} created`)
})

Effect.gen(function*() {
  const db = yield* databaseUrl
  yield* program.pipe(Effect.provide(PgPool.layer({ url: Redacted.make(db.url), max: 5 }) as Layer.Layer<SqlClient.SqlClient | PgPool.PgPool>))
}).pipe(Effect.scoped, Effect.runPromise).catch((error) => {
  console.error(error)
  process.exit(1)
})
