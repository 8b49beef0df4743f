/**
 * Faults injected on purpose while the application runs: Postgres backends terminated, the gRPC
 * service restarted on its port, a pricing thread crashed, the catalogue dropping its idle
 * keep-alive sockets. Each returns a line saying what it did.
 */
import { WorkerPool } from "@effect-pool/worker"
import type { TestGrpcServer, TestHttpServer } from "@effect-pool/testing"
import { Effect } from "effect"
import pg from "pg"
import { Pricing } from "./services.js"

export interface FaultTargets {
  readonly databaseUrl: string
  readonly fulfilment: TestGrpcServer
  readonly catalogue: TestHttpServer
}

export type FaultName = "postgres" | "grpc" | "worker" | "http"
export const faultNames: ReadonlyArray<FaultName> = ["postgres", "grpc", "worker", "http"]

const terminateBackends = (url: string) =>
  Effect.promise(async () => {
    const admin = new pg.Client({ connectionString: url, application_name: "effect-pool-app-chaos" })
    await admin.connect()
    try {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'effect-pool-app'")
      return `postgres: terminated ${rowCount} backend(s) of the orders pool`
    } finally {
      await admin.end()
    }
  })

export const inject = (name: FaultName, targets: FaultTargets) => {
  switch (name) {
    case "postgres":
      return terminateBackends(targets.databaseUrl)
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
