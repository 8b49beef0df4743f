/** A real grpc-js server behind a TCP proxy that counts connections, and a pool in front of it. */
import { GrpcPool } from "@effect-pool/grpc"
import { echoPackage, type GrpcServerOptions, type Msg, startGrpcServer, startTcpProxy } from "@effect-pool/testing-effect4"
import { Effect, type Stream } from "effect"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

export const { Echo } = echoPackage()

/** The Echo service's shape, for a typed client. */
export interface EchoApi {
  readonly unary: GrpcPool.Unary<Partial<Msg>, Msg>
  readonly serverStream: GrpcPool.ServerStreaming<Partial<Msg>, Msg>
  readonly clientStream: GrpcPool.ClientStreaming<Partial<Msg>, Msg>
  readonly bidi: GrpcPool.Bidi<Partial<Msg>, Msg>
}

/** A server and a proxy in front of it, both closed with the scope. */
export const serverBehindProxy = (options: GrpcServerOptions = {}) =>
  Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(Effect.promise(() => startGrpcServer(options)), (s) => Effect.promise(s.close))
    const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(server.port)), (p) => Effect.promise(p.close))
    return { server, proxy, target: `127.0.0.1:${proxy.port}` }
  })

export const echoClient = (pool: GrpcPool.GrpcPool) => GrpcPool.client<EchoApi>(pool, Echo)

export type { Msg, Stream }
export { causeText, eventually } from "@effect-pool/testing-effect4"

/**
 * The `@grpc/grpc-js` the test kit's servers run on (the shared kit resolves its own copy, not
 * this root's): server credentials are checked with `instanceof`, so they must come from it.
 */
export const serverGrpc: typeof import("@grpc/grpc-js") = createRequire(fileURLToPath(import.meta.resolve("@effect-pool/testing/servers")))("@grpc/grpc-js")
