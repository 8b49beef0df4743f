/**
 * `npm run http -w @effect-pool/examples`: @effect/platform HttpClient code on
 * @effect-pool/http, against a local server. 100 concurrent GETs share 4 kept-alive connections.
 */
import { HttpPool } from "@effect-pool/http"
import { startHttpServer } from "@effect-pool/testing"
import { HttpClient } from "@effect/platform"
import { Effect } from "effect"

Effect.gen(function*() {
  const server = yield* Effect.acquireRelease(Effect.promise(() => startHttpServer()), (s) => Effect.promise(s.close))
  yield* Effect.gen(function*() {
    const bodies = yield* Effect.all(
      Array.from({ length: 100 }, () => Effect.scoped(Effect.flatMap(HttpClient.get(`${server.origin}/`), (r) => r.text))),
      { concurrency: "unbounded" }
    )
    const pool = yield* HttpPool.HttpPool
    const stats = (yield* pool.stats).perKey.get(server.origin)!
    console.log(`${bodies.length} responses; the server saw ${server.sockets.opened} connection(s); pool: ${stats.size} open, ${stats.borrows} borrows`)
  }).pipe(Effect.provide(HttpPool.layer({ maxConnectionsPerOrigin: 4 })))
}).pipe(Effect.scoped, Effect.runPromise).catch((error) => {
  console.error(error)
  process.exit(1)
})
