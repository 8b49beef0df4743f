import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { databaseUrl, postgresWorkload } from "../src/postgres.js"

describe("example: Postgres workload", () => {
  it.live("commits through connection kills, and every commit is in the table", () =>
    Effect.gen(function*() {
      const db = yield* databaseUrl
      const workload = postgresWorkload(db.url, 600, 12)
      const report = yield* workload.run.pipe(Effect.provide(workload.layer))
      expect(report.transactions).toBe(600)
      expect(report.committed + report.failed + report.unknown).toBe(600)
      expect(report.rowsInTable).toBeGreaterThanOrEqual(report.committed)
      expect(report.rowsInTable).toBeLessThanOrEqual(report.committed + report.unknown)
      expect(report.committed).toBeGreaterThan(500)
    }).pipe(Effect.scoped), 60_000)
})
