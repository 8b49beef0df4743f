import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as fc from "fast-check"
import { TestClock } from "effect/testing"
import { Pool } from "../src/index.js"
import { Backend, type Conn, settle } from "./helpers.js"

type Op =
  | { readonly _tag: "borrow" }
  | { readonly _tag: "return"; readonly pick: number }
  | { readonly _tag: "invalidate"; readonly pick: number }
  | { readonly _tag: "interrupt"; readonly pick: number }
  | { readonly _tag: "failCreations"; readonly n: number }
  | { readonly _tag: "slowCreations"; readonly ms: number }
  | { readonly _tag: "tick"; readonly ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ _tag: "borrow" as const }), weight: 4 },
  { arbitrary: fc.nat(20).map((pick) => ({ _tag: "return" as const, pick })), weight: 3 },
  { arbitrary: fc.nat(20).map((pick) => ({ _tag: "invalidate" as const, pick })), weight: 1 },
  { arbitrary: fc.nat(20).map((pick) => ({ _tag: "interrupt" as const, pick })), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => ({ _tag: "failCreations" as const, n })), weight: 1 },
  { arbitrary: fc.constantFrom(0, 50, 500).map((ms) => ({ _tag: "slowCreations" as const, ms })), weight: 1 },
  { arbitrary: fc.constantFrom(1, 10, 100, 1_000).map((ms) => ({ _tag: "tick" as const, ms })), weight: 2 }
)

const config = fc.record({
  max: fc.integer({ min: 1, max: 4 }),
  min: fc.integer({ min: 0, max: 2 }),
  concurrency: fc.constantFrom(1, 1, 3),
  order: fc.constantFrom("lifo" as const, "fifo" as const)
})

interface Borrower {
  readonly fiber: Fiber.Fiber<void, unknown>
  readonly scope: Scope.Closeable
  conn: Conn | undefined
}

/** Runs the ops against a real pool on the TestClock, checking invariants after each one. */
const run = (cfg: fc.Arbitrary<any> extends never ? never : { max: number; min: number; concurrency: number; order: "lifo" | "fifo" }, ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    const backend = new Backend()
    const poolScope = yield* Scope.make()
    const min = Math.min(cfg.min, cfg.max)
    const pool = yield* Scope.provide(
      Pool.make({ acquire: backend.acquire, ...cfg, min, acquireTimeout: "2 seconds", createTimeout: "1 second" }),
      poolScope
    )
    const borrowers: Array<Borrower> = []
    const live = () => borrowers.filter((b) => b.fiber.pollUnsafe() === undefined || b.conn !== undefined)
    const holders = () => borrowers.filter((b) => b.conn !== undefined)

    const check = (where: string) => {
      const s = Effect.runSync(Pool.stats(pool))
      const holding = holders()
      expect(backend.alive.size, where).toBeLessThanOrEqual(cfg.max)
      expect(s.size + s.creating, where).toBeLessThanOrEqual(cfg.max)
      expect(s.borrowed, where).toBe(holding.length)
      const perConn = new Map<Conn, number>()
      for (const b of holding) {
        expect(b.conn!.open, `${where}: a borrower holds a destroyed item`).toBe(true)
        perConn.set(b.conn!, (perConn.get(b.conn!) ?? 0) + 1)
      }
      for (const n of perConn.values()) expect(n, where).toBeLessThanOrEqual(cfg.concurrency)
      // nothing lost: every live resource is idle in the pool or held by a borrower
      expect(backend.alive.size, `${where}: resources alive vs pool size`).toBe(s.size)
      if (cfg.concurrency === 1) expect(s.idle + perConn.size, `${where}: idle + held vs size`).toBe(s.size)
    }

    for (const [i, o] of ops.entries()) {
      switch (o._tag) {
        case "borrow": {
          const scope = yield* Scope.make()
          const borrower: Borrower = { fiber: undefined as any, scope, conn: undefined }
          ;(borrower as any).fiber = yield* Effect.forkChild(
            Effect.flatMap(Scope.provide(Pool.get(pool), scope), (conn) =>
              Effect.sync(() => {
                borrower.conn = conn
              }))
          )
          borrowers.push(borrower)
          break
        }
        case "return": {
          const holding = holders()
          if (holding.length === 0) break
          const b = holding[o.pick % holding.length]
          b.conn = undefined
          yield* Scope.close(b.scope, Exit.void)
          break
        }
        case "invalidate": {
          const holding = holders()
          if (holding.length > 0) yield* Pool.invalidate(pool, holding[o.pick % holding.length].conn!)
          break
        }
        case "interrupt": {
          const waiting = borrowers.filter((b) => b.fiber.pollUnsafe() === undefined)
          if (waiting.length > 0) yield* Fiber.interrupt(waiting[o.pick % waiting.length].fiber)
          break
        }
        case "failCreations":
          backend.failCount += o.n
          break
        case "slowCreations":
          backend.delay = o.ms === 0 ? undefined : o.ms
          break
        case "tick":
          yield* TestClock.adjust(o.ms)
          break
      }
      yield* settle
      check(`after op ${i} (${o._tag})`)
    }

    // return everything, let every waiter finish (served or timed out), then close
    backend.failCount = 0
    for (const b of holders()) {
      b.conn = undefined
      yield* Scope.close(b.scope, Exit.void)
    }
    for (let round = 0; round < 10 && live().length > 0; round++) {
      yield* TestClock.adjust("1 second")
      yield* settle
      for (const b of holders()) {
        b.conn = undefined
        yield* Scope.close(b.scope, Exit.void)
      }
    }
    expect(live().length, "a borrower never finished").toBe(0)
    yield* settle // let the destructions of returned items finish
    check("before close")
    yield* Scope.close(poolScope, Exit.void)
    yield* TestClock.adjust("1 second")
    yield* settle
    expect(backend.alive.size, "items left alive after close").toBe(0)
    expect(backend.destroyed, "destroyed exactly what was created").toBe(backend.created)
    expect(new Set(backend.destroyedIds).size, "an item destroyed twice").toBe(backend.destroyedIds.length)
  })

describe("Pool: random interleavings (property)", () => {
  it("keeps its invariants and loses nothing", async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(op, { minLength: 1, maxLength: 40 }), (cfg, ops) =>
        Effect.runPromise(Effect.scoped(run(cfg, ops)).pipe(Effect.provide(TestClock.layer())))),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) }
    )
  }, 120_000)
})
