import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { localServers, webWorkload } from "../src/web.js"

describe("example: HTTP workload", () => {
  it.live("every GET succeeds through dropped sockets, within the per-origin cap", () =>
    Effect.gen(function*() {
      const servers = yield* localServers
      const workload = webWorkload(servers, 1_000, 30)
      const report = yield* workload.run.pipe(Effect.provide(workload.layer))
      expect(report.requests).toBe(1_000)
      expect(report.failed).toBe(0)
      for (const peak of report.connections) expect(peak).toBeLessThanOrEqual(6)
      expect(servers[1].requests.GET).toBeGreaterThan(400)
    }).pipe(Effect.scoped), 60_000)
})
