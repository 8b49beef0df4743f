/**
 * The application's neighbours, started locally: a catalogue HTTP service, a fulfilment gRPC
 * service, and Postgres (embedded, or `--database-url` / DATABASE_URL).
 */
import { startGrpcServer, startHttpServer, startServer, startTcpProxy } from "@effect-pool/testing"
import { Effect } from "effect"
import { catalogueHandler } from "./domain.js"

export const localServices = (databaseUrl: string | undefined) =>
  Effect.gen(function*() {
    const catalogue = yield* Effect.acquireRelease(
      Effect.promise(() =>
        startHttpServer({ handler: catalogueHandler })
      ),
      (server) => Effect.promise(server.close)
    )
    const fulfilment = yield* Effect.acquireRelease(Effect.promise(() => startGrpcServer()), (server) => Effect.promise(server.close))
    // in front of it, a proxy that counts the connections the application holds
    const fulfilmentProxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(fulfilment.port)), (proxy) => Effect.promise(proxy.close))
    const postgres = databaseUrl !== undefined && databaseUrl !== ""
      ? { url: databaseUrl, embedded: false }
      : yield* Effect.map(
        Effect.acquireRelease(Effect.promise(startServer), (server) => Effect.promise(server.dispose)),
        (server) => ({ url: server.url, embedded: true })
      )
    return { catalogue, fulfilment, fulfilmentProxy, postgres }
  })
