/**
 * The application's neighbours, started locally: a catalogue HTTP service, a fulfilment gRPC
 * service (behind a TCP proxy that counts connections), and Postgres (embedded, or
 * `--database-url` / DATABASE_URL). The servers are the shared test kit's.
 */
import { startGrpcServer, startHttpServer, startServer, startTcpProxy } from "@effect-pool/testing-effect4"
import { Effect } from "effect"
import { catalogueHandler } from "../../../../examples/dist/app/domain.js"

export const localServices = (databaseUrl: string | undefined) =>
  Effect.gen(function*() {
    const catalogue = yield* Effect.acquireRelease(Effect.promise(() => startHttpServer({ handler: catalogueHandler })), (server) => Effect.promise(server.close))
    const fulfilment = yield* Effect.acquireRelease(Effect.promise(() => startGrpcServer()), (server) => Effect.promise(server.close))
    const fulfilmentProxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(fulfilment.port)), (proxy) => Effect.promise(proxy.close))
    const postgres = databaseUrl !== undefined && databaseUrl !== ""
      ? { url: databaseUrl, embedded: false }
      : yield* Effect.map(
        Effect.acquireRelease(Effect.promise(startServer), (server) => Effect.promise(server.dispose)),
        (server) => ({ url: server.url, embedded: true })
      )
    return { catalogue, fulfilment, fulfilmentProxy, postgres }
  })
