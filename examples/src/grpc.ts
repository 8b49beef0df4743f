/**
 * gRPC through @effect-pool/grpc: fibers calling a local Echo service (unary calls that wait
 * 20 ms) over a pool of channels, while the server is stopped and restarted on its port
 * half-way. Calls made while it is down fail typed (and are retried by the workload); the pool
 * replaces the channels that lost their connection and no socket is left behind.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { echoPackage, type Msg, startGrpcServer, startTcpProxy, type TcpProxy, type TestGrpcServer } from "@effect-pool/testing"
import { Context, Effect, Schedule } from "effect"
import { bar, type Panel } from "./view.js"
import { drive, type Progress } from "./workload.js"

/** The Echo service's client methods used here. */
export interface EchoApi {
  readonly unary: GrpcPool.Unary<Partial<Msg>, Msg>
}

/** The channel pool as a service. */
export class EchoChannels extends Context.Tag("EchoChannels")<EchoChannels, GrpcPool.GrpcPool>() {}

/** A local Echo server, and a proxy in front of it that counts connections, for the scope. */
export const localGrpcServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = await startGrpcServer({ maxConcurrentStreams: 20 })
    const proxy = await startTcpProxy(server.port)
    return { server, proxy }
  }),
  ({ proxy, server }) => Effect.promise(async () => {
    await proxy.close()
    await server.close()
  })
)

export interface GrpcReport {
  readonly calls: number
  readonly retried: number
  readonly failed: number
  readonly channelsCreated: number
  readonly connectionsOpen: number
  readonly channelsAlive: number
}

export const grpcWorkload = (local: { readonly server: TestGrpcServer; readonly proxy: TcpProxy }, total: number, fibers: number) => {
  const { Echo } = echoPackage()
  const progress: Progress = { done: 0, failed: 0 }
  let retried = 0
  let stats: GrpcPool.Stats | undefined
  const layer = GrpcPool.layer(EchoChannels, {
    target: `127.0.0.1:${local.proxy.port}`,
    name: "echo",
    minChannels: 2,
    maxChannels: 4,
    maxConcurrentStreamsPerChannel: 20,
    connectTimeout: "1 second",
    acquireTimeout: "3 seconds"
  })
  const run = Effect.gen(function*() {
    const pool = yield* EchoChannels
    const echo = GrpcPool.client<EchoApi>(pool, Echo)
    yield* drive({
      total,
      fibers,
      progress,
      refresh: Effect.flatMap(GrpcPool.stats(pool), (s) => Effect.sync(() => (stats = s))),
      // chaos: the server goes away and comes back on the same port
      chaos: Effect.promise(local.server.stop).pipe(Effect.zipRight(Effect.sleep("300 millis")), Effect.zipRight(Effect.promise(local.server.start))),
      // a call that fails while the server is away is tried again (the Echo call is idempotent)
      item: (i) =>
        echo.unary({ text: `${i}`, delayMs: 20 }).pipe(
          Effect.tapError(() => Effect.sync(() => retried++)),
          Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 50 }),
          Effect.as(true)
        )
    })
    return {
      calls: progress.done,
      retried,
      failed: progress.failed,
      channelsCreated: stats!.pool.created,
      connectionsOpen: local.proxy.open(),
      channelsAlive: stats!.channels.length
    } satisfies GrpcReport
  })
  const panel: Panel = {
    title: `grpc: ${fibers} fibers, ${total} calls over at most 4 channels, the server restarted half-way`,
    rows: () => [
      `${bar(progress.done, total)}  ${progress.done}/${total} calls, ${retried} retried, ${progress.failed} failed`,
      stats === undefined
        ? "starting…"
        : `${stats.channels.map((c) => `${c.state.toLowerCase()}:${c.activeCalls}`).join(" ")}   ` +
          `${stats.pool.waiting} waiting, ${stats.pool.created} channels opened, ${local.proxy.open()} connections`
    ]
  }
  return { run, panel, layer }
}
