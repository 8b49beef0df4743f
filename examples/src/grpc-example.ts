/**
 * `npm run grpc -w @effect-pool/examples`: a local gRPC server and a client workload over a pool
 * of channels, with a live view; the server is restarted half-way and the pool heals.
 */
import { Effect, Fiber } from "effect"
import { grpcWorkload, localGrpcServer } from "./grpc.js"
import { live } from "./view.js"

Effect.gen(function*() {
  const local = yield* localGrpcServer
  const workload = grpcWorkload(local, Number(process.env.GRPC_CALLS ?? 3_000), 40)
  const view = yield* Effect.fork(live([workload.panel]))
  const report = yield* workload.run.pipe(Effect.provide(workload.layer))
  yield* Fiber.interrupt(view)
  console.log(
    `\n${report.calls} calls, ${report.failed} failed, ${report.retried} retried while the server was away; ` +
      `${report.channelsCreated} channels opened in all, ${report.channelsAlive} alive, ${report.connectionsOpen} connections open at the end`
  )
  if (report.failed > 0) throw new Error("calls failed for good")
}).pipe(Effect.scoped, Effect.runPromise).catch((error) => {
  console.error(error)
  process.exit(1)
})
