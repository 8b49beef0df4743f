/**
 * Faults injected on purpose while the application runs: Postgres backends terminated, the gRPC
 * service restarted on its port, a pricing thread crashed, the catalogue dropping its idle
 * keep-alive sockets. Each returns a line saying what it did (the same lines as the Effect 3 app).
 */
import type { TestGrpcServer, TestHttpServer } from "@effect-pool/testing-effect4"
import { WorkerPool } from "@effect-pool/worker"
import { Effect } from "effect"
import { type FaultName, terminateOrdersBackends } from "../../../../examples/dist/app/domain.js"
import { Pricing } from "./services.js"

export interface FaultTargets {
  readonly databaseUrl: string
  readonly fulfilment: TestGrpcServer
  readonly catalogue: TestHttpServer
}

export const inject = (name: FaultName, targets: FaultTargets): Effect.Effect<string, never, Pricing> => {
  switch (name) {
    case "postgres":
      return Effect.promise(() => terminateOrdersBackends(targets.databaseUrl))
    case "grpc":
      return Effect.promise(targets.fulfilment.stop).pipe(
        Effect.andThen(Effect.sleep("300 millis")),
        Effect.andThen(Effect.promise(targets.fulfilment.start)),
        Effect.as("grpc: fulfilment service restarted on its port")
      )
    case "worker":
      return Effect.gen(function*() {
        const { pool } = yield* Pricing
        const error = yield* Effect.flip(WorkerPool.run(pool, { order: { id: "crash", lines: [] }, items: [] }, { name: "crash" })).pipe(Effect.orDie)
        return `worker: a pricing thread crashed (${error._tag})`
      })
    case "http":
      return Effect.sync(() => {
        targets.catalogue.server.closeIdleConnections()
        return "http: the catalogue dropped its idle keep-alive sockets"
      })
  }
}
