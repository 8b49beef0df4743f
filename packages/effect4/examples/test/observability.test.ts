import { freePort } from "@effect-pool/testing-effect4"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runApp } from "../src/run.js"

describe("the Effect 4 application's metrics (--metrics-port, @effect/opentelemetry 4)", () => {
  it.live("serves each of the four pools' gauges, counters and histograms in Prometheus format", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      let scraped = ""
      const report = yield* runApp({
        orders: 120,
        duration: "60 seconds",
        concurrency: 8,
        faults: "none",
        view: false,
        metricsPort: port,
        beforeClose: Effect.promise(async () => {
          const response = await fetch(`http://127.0.0.1:${port}/metrics`)
          scraped = await response.text()
        })
      })
      expect(report.tally.placed).toBe(120)
      for (const pool of ["catalogue", "pricing", "orders", "fulfilment"]) {
        for (const metric of ["effect_pool_size", "effect_pool_borrowed", "effect_pool_waiting", "effect_pool_created_total", "effect_pool_create_ms_bucket"]) {
          expect(scraped, `${metric} of ${pool}`).toMatch(new RegExp(`^${metric}\\{[^}]*pool="${pool}"`, "m"))
        }
      }
      expect(scraped).toMatch(/^effect_pool_worker_tasks_total\{[^}]*outcome="completed"[^}]*\} 120/m)
    }), 120_000)
})
