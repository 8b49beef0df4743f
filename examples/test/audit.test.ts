import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { auditQuery, createTables, linesTable, ordersTable } from "../src/app/domain.js"
import { databaseUrl } from "../src/postgres.js"

describe("the app's audit (what the exactly-once verdict reads)", () => {
  it.live("counts every stored order and finds each whose lines are not all there", () =>
    Effect.gen(function*() {
      const db = yield* databaseUrl
      const rows = yield* Effect.promise(async () => {
        const client = new pg.Client({ connectionString: db.url })
        await client.connect()
        try {
          for (const statement of createTables) await client.query(statement)
          // a: complete (2 of 2), b: one line missing (1 of 2), c: none of its line, d: complete (1 of 1)
          await client.query(`INSERT INTO ${ordersTable} (id, total_cents, line_count) VALUES ('a', 1, 2), ('b', 1, 2), ('c', 1, 1), ('d', 1, 1)`)
          await client.query(`INSERT INTO ${linesTable} VALUES ('a', 's1', 1, 1), ('a', 's2', 1, 1), ('b', 's1', 1, 1), ('d', 's3', 2, 1)`)
          return (await client.query(auditQuery)).rows
        } finally {
          await client.end()
        }
      })
      expect(rows).toEqual([{ stored: 4, incomplete: 2 }])
    }).pipe(Effect.scoped), 60_000)
})
