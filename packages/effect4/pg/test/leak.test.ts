/** Leak detection and lifetimes on the pg pool, through the TestClock (the server is real). */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { Effect, Exit, Logger, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { eventually, poolLayer } from "./helpers.js"

describe("pg pool: leak detection and lifetime", () => {
  it.effect("a connection reserved past leakDetectionThreshold is reported, naming the pool", () => {
    const logs: Array<string> = []
    const capture = Logger.layer([Logger.make(({ message }) => logs.push(String(message)))])
    return Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      const conn = yield* Scope.provide(sql.reserve, scope)
      yield* conn.execute("SELECT 1", [], undefined)
      yield* TestClock.adjust("59 seconds")
      expect(logs.filter((l) => l.includes("leakDetectionThreshold"))).toEqual([])
      yield* TestClock.adjust("2 seconds")
      yield* eventually("leak logged", () => logs.some((l) => l.includes("leakDetectionThreshold")))
      expect(logs.find((l) => l.includes("leakDetectionThreshold"))).toContain(`pool "pg-leak"`)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(poolLayer({ name: "pg-leak", max: 1, leakDetectionThreshold: "1 minute" })), Effect.provide(capture))
  }, 30_000)

  it.effect("idle connections are replaced after maxLifetime (30 min ± 10 % jitter: core's)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pg = yield* PgPool.PgPool
      yield* Effect.all(Array.from({ length: 4 }, () => sql`SELECT 1`), { concurrency: 4 })
      const before = yield* pg.stats
      // past every jittered lifetime (30 min ± 10 %): each connection is replaced
      yield* TestClock.adjust("40 minutes")
      yield* eventually("all replaced", Effect.map(pg.stats, (s) => s.destroyed >= before.created))
      expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
    }).pipe(Effect.provide(poolLayer({ name: "pg-lifetime", max: 4 }))), 30_000)
})
