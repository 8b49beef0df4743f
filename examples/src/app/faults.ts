/**
 * Faults injected on purpose while the application runs: Postgres backends terminated, the gRPC
 * service restarted on its port, a pricing thread crashed, the catalogue dropping its idle
 * keep-alive sockets. Each returns a line saying what it did.
 */
import { WorkerPool } from "@effect-pool/worker"
import type { TestGrpcServer, TestHttpServer } from "@effect-pool/testing"
import { Effect } from "effect"
import { type FaultName, terminateOrdersBackends } from "./domain.js"
import { Pricing } from "./services.js"

export interface FaultTargets {
  readonly databaseUrl: string
  readonly fulfilment: TestGrpcServer
  readonly catalogue: TestHttpServer
}

export { type FaultName, faultNames } from "./domain.js"

export const inject = (name: FaultName, targets: FaultTargets) => {
  switch (name) {
    case "postgres":
      return Effect.promise(() => terminateOrdersBackends(targets.databaseUrl))
    case "grpc":
      return Effect.promise(targets.fulfilment.stop).pipe(
        Effect.zipRight(Effect.sleep("300 millis")),
        Effect.zipRight(Effect.promise(targets.fulfilment.start)),
        Effect.as("grpc: fulfilment service restarted on its port")
      )
    case "worker":
      return Effect.flatMap(Pricing, ({ pool }) =>
        Effect.map(Effect.flip(WorkerPool.run(pool, { order: { id: "crash", lines: [] }, items: [] }, { name: "crash" })), (e) => `worker: a pricing thread crashed (${e._tag})`))
    case "http":
      return Effect.sync(() => {
        targets.catalogue.server.closeIdleConnections()
        return "http: the catalogue dropped its idle keep-alive sockets"
      })
  }
}
