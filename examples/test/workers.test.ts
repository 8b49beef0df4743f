import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { workerWorkload } from "../src/workers.js"

describe("example: worker workload", () => {
  it.live("every tile is processed through a thread crash; the crashed thread is replaced", () =>
    Effect.gen(function*() {
      const workload = workerWorkload(60, 8)
      const report = yield* workload.run.pipe(Effect.provide(workload.layer))
      expect(report.tiles).toBe(60)
      expect(report.failed).toBe(0)
      expect(report.crashes).toBe(1)
      expect(report.workers).toBe(report.threadsStarted - 1)
    }), 60_000)
})
