/** Metrics and spans a user relies on to see inside a pool. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Metric, Scope, Tracer } from "effect"
import { Pool } from "../src/index.js"
import { Backend, type Conn, until } from "./helpers.js"

/** A metric's state as an exporter sees it: from the registry snapshot, by name and pool label. */
const metric = (name: string, pool: string) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const found = pairs.find((p) => p.id === name && p.attributes?.pool === pool)
    if (found === undefined) throw new Error(`no metric ${name}{pool=${pool}}`)
    return found.state as unknown as { readonly value?: number; readonly count?: number }
  })
const gauge = (name: string, pool: string) => Effect.map(metric(name, pool), (s) => s.value)
const count = (name: string, pool: string) => Effect.map(metric(name, pool), (s) => s.count)

describe("observability", () => {
  it.effect("exposes gauges, counters and histograms labelled by the pool's name", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 2, name: "metered" })
      const holder = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(holder, Exit.void))
      yield* Scope.provide(Pool.get(pool), holder)
      yield* Effect.forEach(Array.from({ length: 5 }), () => Pool.use(pool, () => Effect.void))
      yield* Pool.stats(pool) // refreshes gauges and counters now (else every second)
      expect((yield* gauge("effect_pool_size", "metered"))).toBe(2)
      expect((yield* gauge("effect_pool_borrowed", "metered"))).toBe(1)
      expect((yield* count("effect_pool_created_total", "metered"))).toBe(2)
      expect((yield* count("effect_pool_borrows_total", "metered"))).toBe(6)
      expect((yield* count("effect_pool_create_ms", "metered"))).toBe(2)
      // the first two borrows waited for a creation
      expect((yield* count("effect_pool_wait_ms", "metered"))).toBe(2)
      yield* Scope.close(holder, Exit.void)
      yield* Pool.stats(pool)
      expect((yield* gauge("effect_pool_borrowed", "metered"))).toBe(0)
      expect((yield* gauge("effect_pool_idle", "metered"))).toBe(2)
    }))

  it.effect("the lease API records waits in the wait histogram too (not borrows served at once)", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, name: "leased" })
      const lease = yield* Effect.callback<Pool.Lease<Conn>>((resume) => {
        Pool.unsafeBorrow(pool, (l) => resume(Effect.succeed(l!))) // waits for the creation
      })
      const second = yield* Effect.callback<Pool.Lease<Conn>>((resume) => {
        Pool.unsafeBorrow(pool, (l) => resume(Effect.succeed(l!))) // waits for the return below
        Pool.unsafeReturn(pool, lease, Exit.void)
      })
      Pool.unsafeReturn(pool, second, Exit.void)
      yield* Effect.callback<void>((resume) => {
        Pool.unsafeBorrow(pool, (l) => { // idle: served at once, no wait recorded
          Pool.unsafeReturn(pool, l!, Exit.void)
          resume(Effect.void)
        })
      })
      expect((yield* count("effect_pool_wait_ms", "leased"))).toBe(2)
    }))

  it.effect("another pool's metrics are its own", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 3, max: 3, name: "other" })
      yield* until("warm", () => Effect.runSync(Pool.stats(pool)).idle === 3)
      yield* Pool.stats(pool)
      expect((yield* gauge("effect_pool_size", "other"))).toBe(3)
      expect((yield* count("effect_pool_created_total", "other"))).toBe(3)
    }))

  it.effect("records a pool.create span per creation, and pool.acquire around waits with spans: true", () =>
    Effect.gen(function*() {
      const recorded: Array<string> = []
      const native = yield* Effect.tracer
      const recording = Tracer.make({
        span(options) {
          recorded.push(options.name)
          return native.span(options)
        },
        ...(native.context === undefined ? {} : { context: native.context })
      })
      yield* Effect.gen(function*() {
        const backend = new Backend()
        const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, spans: true, name: "traced" })
        yield* Effect.scoped(Pool.get(pool)) // waits for a creation
        yield* Effect.scoped(Pool.get(pool)) // idle item: no wait, no span
      }).pipe(Effect.scoped, Effect.withTracer(recording))
      expect(recorded.filter((n) => n === "pool.create")).toEqual(["pool.create"])
      expect(recorded.filter((n) => n === "pool.acquire")).toEqual(["pool.acquire"])
    }))
})
