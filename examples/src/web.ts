/**
 * HTTP through @effect-pool/http: many fibers calling two local origins through @effect/platform's
 * HttpClient, 6 connections per origin at most, while one server drops reused keep-alive
 * sockets from time to time. Idempotent GETs that hit a dropped socket are retried on a fresh
 * connection: the caller never sees those failures.
 */
import { HttpPool } from "@effect-pool/http"
import { startHttpServer, type TestHttpServer } from "@effect-pool/testing"
import { HttpClient } from "@effect/platform"
import { Effect, Fiber, type Layer } from "effect"
import { bar, type Panel } from "./view.js"

/** Two local servers for the lifetime of the scope; the second one drops some reused sockets. */
export const localServers = Effect.acquireRelease(
  Effect.promise(async () => {
    let n = 0
    const flaky = await startHttpServer({
      handler: (req, res) => {
        // every 25th request: close the connection without answering, as an overloaded server might
        if (++n % 25 === 0 && req.socket.listenerCount("close") > 0) return void req.socket.destroy()
        res.end("ok")
      }
    })
    return [await startHttpServer(), flaky] as const
  }),
  (servers) => Effect.promise(() => Promise.all(servers.map((s) => s.close())))
)

export interface WebReport {
  readonly requests: number
  readonly failed: number
  readonly connections: ReadonlyArray<number>
}

export const webWorkload = (servers: ReadonlyArray<TestHttpServer>, total: number, fibers: number) => {
  let done = 0
  let failed = 0
  let stats: HttpPool.HttpPool["Type"] extends { stats: Effect.Effect<infer S> } ? S : never
  let refreshed = false
  const layer = HttpPool.layer({ name: "web", maxConnectionsPerOrigin: 6, idleTimeout: "5 seconds" })
  const run = Effect.gen(function*() {
    const pool = yield* HttpPool.HttpPool
    const refresh = Effect.flatMap(pool.stats, (s) =>
      Effect.sync(() => {
        stats = s
        refreshed = true
      }))
    const refresher = yield* Effect.fork(Effect.forever(Effect.zipRight(refresh, Effect.sleep("50 millis"))))
    let next = 0
    const worker = Effect.gen(function*() {
      while (next < total) {
        const server = servers[next++ % servers.length]
        const ok = yield* Effect.scoped(Effect.flatMap(HttpClient.get(`${server.origin}/`), (r) => r.text)).pipe(
          Effect.as(true),
          Effect.catchAll(() => Effect.succeed(false))
        )
        if (!ok) failed++
        done++
      }
    })
    yield* Effect.all(Array.from({ length: fibers }, () => worker), { concurrency: "unbounded", discard: true })
    yield* Fiber.interrupt(refresher) // before the layer closes: the last stats are the live ones
    yield* refresh
    return { requests: done, failed, connections: servers.map((s) => s.sockets.peak) } satisfies WebReport
  })
  const panel: Panel = {
    title: `http: ${fibers} fibers, ${total} GETs to 2 local origins, at most 6 connections each`,
    rows: () => [
      `${bar(done, total)}  ${done}/${total} requests, ${failed} failed`,
      !refreshed
        ? "starting…"
        : [...stats.perKey].map(([origin, s]) =>
          `${origin.replace("http://", "")}: ${s.size} open, ${s.idle} idle, ${s.borrowed} busy, ${s.waiting} waiting`
        ).join("   ")
    ]
  }
  return { run, panel, layer: layer as Layer.Layer<HttpClient.HttpClient | HttpPool.HttpPool> }
}
