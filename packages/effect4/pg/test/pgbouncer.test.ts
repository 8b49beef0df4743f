/** PgBouncer transaction mode, against a real pgbouncer (Debian's). */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { pgbouncerBinary, startPgbouncer } from "@effect-pool/testing-effect4"
import { Effect, Exit, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { admin, causeText, eventually, pgUrl, table } from "./helpers.js"

// CI installs pgbouncer (.ci/run); elsewhere the test is skipped, loudly, when it is missing
const missing = pgbouncerBinary() === undefined && process.env.CI !== "true"
if (missing) console.warn("pgbouncer not installed: skipping the PgBouncer tests (apt-get install pgbouncer)")

describe.skipIf(missing)("PgBouncer transaction mode", () => {
  const bouncer = Effect.acquireRelease(Effect.promise(() => startPgbouncer(pgUrl())), (b) => Effect.promise(b.stop))

  for (const multiplex of [false, true]) {
    it.live(`works with pgbouncer: true (multiplex: ${multiplex}), with a client-enforced statement timeout that cancels through the bouncer`, () =>
      Effect.gen(function*() {
        const { url } = yield* bouncer
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const t = table()
          yield* sql`CREATE TABLE ${sql(t)} (v int)`
          yield* sql.withTransaction(Effect.andThen(sql`INSERT INTO ${sql(t)} VALUES (${1})`, sql`INSERT INTO ${sql(t)} VALUES (${2})`))
          // the same statement text many times over: no named statement may be reused across the bouncer's backends
          const rows = yield* Effect.all(Array.from({ length: 40 }, (_, i) => sql<{ n: number }>`SELECT ${i}::int AS n`), { concurrency: 10 })
          expect(rows.map((r) => r[0]!.n)).toEqual(Array.from({ length: 40 }, (_, i) => i))
          expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 2 }])
          if (!multiplex) {
            // the timeout, not the sleep, ends the statement (the sleep would outlast the test)
            const slow = yield* Effect.exit(sql.withTransaction(sql`SELECT pg_sleep(120)`))
            expect(Exit.isFailure(slow)).toBe(true)
            if (Exit.isFailure(slow)) expect(causeText(slow.cause.reasons[0])).toMatch(/timed out after 3000 ms/)
            // the cancel request went through the bouncer: the server stopped the sleep
            yield* eventually("cancelled on the server", Effect.map(
              admin((c) => Effect.map(c.query("select count(*)::int n from pg_stat_activity where query like 'SELECT pg_sleep(120)%' and state = 'active'"), (r) => Number(r.rows[0]!.n))),
              (n) => n === 0
            ), 20_000)
          }
          expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        }).pipe(Effect.provide(PgPool.layer({
          url: Redacted.make(url),
          pgbouncer: true,
          multiplex,
          // long enough that no ordinary statement hits it on a busy machine
          statementTimeout: "3 seconds",
          max: 8
        })))
      }).pipe(Effect.scoped), 60_000)
  }

  it.live("without pgbouncer mode, session settings in the startup packet are refused by the bouncer", () =>
    Effect.gen(function*() {
      const { url } = yield* bouncer
      const error = yield* Effect.flip(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
        Effect.provide(PgPool.layer({ url: Redacted.make(url), statementTimeout: "300 millis", acquireTimeout: "2 seconds" }))
      ))
      expect(causeText(error)).toMatch(/unsupported startup parameter/)
    }).pipe(Effect.scoped), 30_000)
})
