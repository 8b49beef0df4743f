import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { grpcWorkload, localGrpcServer } from "../src/grpc.js"

describe("example: gRPC workload", () => {
  it.live("every call completes through a server restart; connections match the live channels", () =>
    Effect.gen(function*() {
      const local = yield* localGrpcServer
      const workload = grpcWorkload(local, 600, 20)
      const report = yield* workload.run.pipe(Effect.provide(workload.layer))
      expect(report.calls).toBe(600)
      expect(report.failed).toBe(0)
      expect(report.channelsCreated).toBeGreaterThan(2)
      expect(report.connectionsOpen).toBe(report.channelsAlive)
    }).pipe(Effect.scoped), 60_000)
})
