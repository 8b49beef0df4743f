/** The pool's Effect 4 metrics: the core's, with the pool's name as the `pool` attribute; channels as items, calls as borrows. */
import { describe, expect, it } from "@effect/vitest"
import { GrpcPool } from "@effect-pool/grpc"
import { Effect, Metric } from "effect"
import { echoClient, serverBehindProxy } from "./helpers.js"

/** A metric's state as an exporter sees it: from the registry snapshot, by name and pool attribute. */
const metric = (name: string, pool: string) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const found = pairs.find((p) => p.id === name && p.attributes?.pool === pool)
    if (found === undefined) throw new Error(`no metric ${name}{pool=${pool}}`)
    return found.state as unknown as { readonly value?: number; readonly count?: number }
  })

describe("GrpcPool metrics", () => {
  it.live("channels are the pool's items and calls its borrows, under the pool attribute of the pool's name", () =>
    Effect.gen(function*() {
      const { target, proxy } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, name: "metered-grpc", minChannels: 2, maxChannels: 2 })
      const echo = echoClient(pool)
      yield* Effect.forEach(Array.from({ length: 7 }), () => echo.unary({ text: "m" }), { concurrency: 4, discard: true })
      yield* GrpcPool.stats(pool) // refreshes the gauges and counters now
      expect(proxy.open()).toBe(2)
      expect((yield* metric("effect_pool_size", "metered-grpc")).value).toBe(2)
      expect((yield* metric("effect_pool_created_total", "metered-grpc")).count).toBe(2)
      expect((yield* metric("effect_pool_borrows_total", "metered-grpc")).count).toBeGreaterThanOrEqual(7)
      expect((yield* metric("effect_pool_borrowed", "metered-grpc")).value).toBe(0)
    }).pipe(Effect.scoped))
})
