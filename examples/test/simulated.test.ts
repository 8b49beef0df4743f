import { describe, expect, it } from "@effect/vitest"
import { Pool } from "@effect-pool/core"
import { Effect } from "effect"
import { SimPool, simulatedWorkload } from "../src/simulated.js"

describe("example: simulated workload", () => {
  it.live("serves every borrow through creation failures and broken connections, within max", () => {
    const workload = simulatedWorkload(400, 20)
    return Effect.gen(function*() {
      const report = yield* workload.run
      const stats = yield* Pool.stats(yield* SimPool)
      expect(report.borrows).toBe(400)
      expect(stats.borrows).toBe(400) // every borrow was served, including those whose query failed
      expect(stats.size).toBeLessThanOrEqual(stats.max)
      expect(stats.borrowed).toBe(0)
      expect(workload.panel.rows()[0]).toContain("400/400")
    }).pipe(Effect.provide(workload.layer))
  })
})
