import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runApp } from "../src/run.js"

describe("the order application on Effect 4 (npm start)", () => {
  it.live("places every order through the four faults; each is stored exactly once; the pools heal", () =>
    Effect.gen(function*() {
      const report = yield* runApp({ orders: 300, duration: "90 seconds", concurrency: 12, faults: "half-way", view: false, databaseUrl: undefined })
      expect(report.tally.placed).toBe(300)
      expect(report.tally.failed).toBe(0)
      expect(report.exactlyOnce).toBe(true)
      expect(report.audit).toEqual({ stored: 300, incomplete: 0 })
      expect(report.faults.map((f) => f.split(":")[0]).sort()).toEqual(["grpc", "http", "postgres", "worker"])
      // every pool is back to serving, none left with waiters
      for (const pool of report.pools) expect(pool.waiting).toBe(0)
      expect(report.pools.map((p) => p.pool)).toEqual(["catalogue", "pricing", "orders", "fulfilment"])
    }), 120_000)
})
