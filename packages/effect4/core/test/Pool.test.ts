import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Context, Effect, Exit, Fiber, Layer, Logger, Schedule, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Pool, PoolConfigError, type PoolTimeoutError } from "../src/index.js"
import { Backend, type Conn, settle, until, stats } from "./helpers.js"


describe("Pool: sizing and borrowing", () => {
  it.effect("creates min items at start and serves borrows from them", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 3, max: 5 })
      yield* until("min created", () => stats(pool).idle === 3)
      const id = yield* Pool.use(pool, (conn) => Effect.succeed(conn.id))
      expect(id).toBeLessThan(3)
      expect(backend.created).toBe(3)
      expect(stats(pool)).toMatchObject({ size: 3, idle: 3, borrowed: 0, borrows: 1 })
    }))

  it.effect("never lends more than max items under 1,000 concurrent borrowers", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 7 })
      let inUse = 0
      let peak = 0
      let peakAlive = 0
      yield* Effect.forEach(
        Array.from({ length: 1_000 }),
        () =>
          Pool.use(pool, () =>
            Effect.gen(function*() {
              inUse++
              peak = Math.max(peak, inUse)
              peakAlive = Math.max(peakAlive, backend.alive.size)
              yield* Effect.yieldNow
              inUse--
            })),
        { concurrency: "unbounded", discard: true }
      )
      expect(peak).toBe(7)
      expect(peakAlive).toBeLessThanOrEqual(7)
      expect(backend.created).toBe(7)
      expect(stats(pool)).toMatchObject({ borrowed: 0, waiting: 0, borrows: 1_000 })
    }))

  it.effect("shares an item between up to `concurrency` borrowers, never more than max × concurrency", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 3, concurrency: 4 })
      const perItem = new Map<number, number>()
      let peak = 0
      let inUse = 0
      yield* Effect.forEach(
        Array.from({ length: 1_000 }),
        () =>
          Pool.use(pool, (conn) =>
            Effect.gen(function*() {
              inUse++
              peak = Math.max(peak, inUse)
              const n = (perItem.get(conn.id) ?? 0) + 1
              perItem.set(conn.id, n)
              expect(n).toBeLessThanOrEqual(4)
              yield* Effect.yieldNow
              perItem.set(conn.id, perItem.get(conn.id)! - 1)
              inUse--
            })),
        { concurrency: "unbounded", discard: true }
      )
      expect(peak).toBe(12)
      expect(backend.created).toBe(3)
    }))

  it.effect("with targetUtilization, creates the next shared item before the current ones are full", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 4, concurrency: 10, targetUtilization: 0.5 })
      const scope = yield* Scope.make()
      for (let i = 0; i < 6; i++) yield* Scope.provide(Pool.get(pool), scope)
      yield* until("second item", () => stats(pool).size === 2)
      expect(backend.created).toBe(2)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("keeps at most maxIdle idle items; the rest are destroyed on return", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 5, maxIdle: 2 })
      yield* Effect.forEach(Array.from({ length: 5 }), () => Pool.use(pool, () => Effect.yieldNow), {
        concurrency: "unbounded",
        discard: true
      })
      expect(backend.created).toBe(5)
      yield* until("surplus destroyed", () => backend.destroyed === 3)
      expect(stats(pool)).toMatchObject({ size: 2, idle: 2 })
    }))

  it.effect("serves waiters first come, first served", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const holder = yield* Scope.make()
      yield* Scope.provide(Pool.get(pool), holder)
      const order: Array<number> = []
      const fibers: Array<Fiber.Fiber<unknown, unknown>> = []
      for (let i = 0; i < 5; i++) {
        fibers.push(yield* Effect.forkChild(Pool.use(pool, () => Effect.sync(() => order.push(i)))))
        yield* until(`waiter ${i} queued`, () => stats(pool).waiting === i + 1)
      }
      yield* Scope.close(holder, Exit.void)
      yield* Fiber.joinAll(fibers)
      expect(order).toEqual([0, 1, 2, 3, 4])
    }))

  it.effect.each(["lifo", "fifo"] as const)("reuses idle items in %s order", (order) =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 3, max: 3, order })
      yield* until("min created", () => stats(pool).idle === 3)
      // return them in the order 0, 1, 2
      const scope = yield* Scope.make()
      const held = [yield* Scope.provide(Pool.get(pool), scope), yield* Scope.provide(Pool.get(pool), scope), yield* Scope.provide(Pool.get(pool), scope)]
      yield* Scope.close(scope, Exit.void) // finalizers run in reverse: last borrowed goes back first
      const returned = [...held].reverse().map((c) => c.id)
      const next = yield* Pool.use(pool, (conn) => Effect.succeed(conn.id))
      expect(next).toBe(order === "lifo" ? returned[returned.length - 1] : returned[0])
    }))

  it.effect("Pool.get returns the item when the scope closes, through recycle with the scope's exit", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const exits: Array<Exit.Exit<unknown, unknown>> = []
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 1,
        recycle: (_conn, exit) => Effect.sync(() => exits.push(exit))
      })
      yield* Effect.scoped(Pool.get(pool))
      const failed = yield* Effect.exit(Effect.scoped(Effect.andThen(Pool.get(pool), Effect.fail("boom"))))
      expect(Exit.isFailure(failed)).toBe(true)
      expect(exits.length).toBe(2)
      expect(Exit.isSuccess(exits[0])).toBe(true)
      expect(Exit.isFailure(exits[1])).toBe(true)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0 })
    }))

  it.effect("Pool.get's synchronous fast path: the same item twice in one scope goes back twice, once each", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1, concurrency: 2 })
      yield* until("min created", () => stats(pool).idle === 1)
      const scope = yield* Scope.make()
      // a fresh scope, then one with a finalizer already (the single → map transition), twice over
      yield* Scope.addFinalizer(scope, Effect.void)
      const a = yield* Scope.provide(Pool.get(pool), scope)
      const b = yield* Scope.provide(Pool.get(pool), scope)
      expect(a).toBe(b)
      expect(stats(pool)).toMatchObject({ size: 1, borrowed: 2, borrows: 2 })
      yield* Scope.close(scope, Exit.void)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0 })
      // the per-item release is reused by later borrows and still returns exactly once each
      for (let i = 0; i < 3; i++) yield* Effect.scoped(Pool.get(pool))
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0, borrows: 5 })
      const again = yield* Effect.scoped(Effect.andThen(Pool.get(pool), Pool.get(pool)))
      expect(again).toBe(a)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0, borrows: 7 })
    }))

  it.effect("Pool.get in a scope already closed hands the item back at once", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* until("min created", () => stats(pool).idle === 1)
      const scope = yield* Scope.make()
      yield* Scope.close(scope, Exit.void)
      yield* Scope.provide(Pool.get(pool), scope)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0, borrows: 1 })
    }))

  it.effect("Pool.get's fast path: a borrower interrupted right after the get still returns the item", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* until("min created", () => stats(pool).idle === 1)
      const fiber = yield* Effect.forkChild(Effect.scoped(Effect.andThen(Pool.get(pool), Effect.never)))
      yield* until("borrowed", () => stats(pool).borrowed === 1)
      yield* Fiber.interrupt(fiber)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, borrowed: 0 })
    }))

  it.effect("a recycle returning undefined (nothing to do) keeps the item, with no effect run", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let calls = 0
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, recycle: () => void calls++ })
      for (let i = 0; i < 3; i++) yield* Pool.use(pool, () => Effect.void)
      expect(calls).toBe(3)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 1, destroyed: 0, borrows: 3 })
    }))

  it.effect("a failing recycle destroys the item instead of reusing it", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 1,
        recycle: (_conn, exit) => (Exit.isFailure(exit) ? Effect.fail("dirty") : Effect.void)
      })
      yield* Effect.exit(Pool.use(pool, () => Effect.fail("query failed")))
      yield* until("destroyed", () => backend.destroyed === 1)
      const id = yield* Pool.use(pool, (conn) => Effect.succeed(conn.id))
      expect(id).toBe(1)
    }))

  it.effect("invalidate destroys a borrowed item on return and an idle one at once", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 2, max: 2 })
      yield* until("min", () => stats(pool).idle === 2)
      const first = yield* Pool.use(pool, (conn) => Effect.as(Pool.invalidate(pool, conn), conn))
      yield* until("destroyed", () => backend.destroyed === 1)
      expect(first.open).toBe(false)
      // idle item: invalidated now
      const idle = [...backend.alive].find((c) => c.id !== first.id)!
      yield* Pool.invalidate(pool, idle)
      yield* until("both destroyed and min topped up", () => backend.destroyed === 2 && stats(pool).idle === 2)
      expect(stats(pool).invalidated).toBe(2)
    }))

  it.effect("resize grows for waiters and shrinks surplus idle items", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const scope = yield* Scope.make()
      yield* Scope.provide(Pool.get(pool), scope)
      const waiter = yield* Effect.forkChild(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* until("waiting", () => stats(pool).waiting === 1)
      yield* Pool.resize(pool, { max: 3 })
      expect(yield* Fiber.join(waiter)).toBe(1)
      yield* Scope.close(scope, Exit.void)
      expect(stats(pool)).toMatchObject({ size: 2, idle: 2 })
      yield* pool.pipe(Pool.resize({ max: 1 }))
      yield* until("shrunk", () => stats(pool).size === 1 && backend.destroyed === 1)
      const bad = yield* Effect.flip(Pool.resize(pool, { min: 5, max: 2 }))
      expect(bad).toBeInstanceOf(PoolConfigError)
      expect(stats(pool).max).toBe(1)
    }))

  it.effect("rejects bad options with PoolConfigError at make", () =>
    Effect.gen(function*() {
      const acquire = Effect.succeed(1)
      const cases: Array<[Partial<Pool.Options<number, never, never>>, string]> = [
        [{ min: 5, max: 2 }, "min"],
        [{ max: 0 }, "max"],
        [{ max: 1.5 }, "max"],
        [{ min: -1 }, "min"],
        [{ concurrency: 0 }, "concurrency"],
        [{ targetUtilization: 0 }, "targetUtilization"],
        [{ targetUtilization: 1.5 }, "targetUtilization"],
        [{ idleTimeout: -1 }, "idleTimeout"],
        [{ acquireTimeout: "-5 seconds" }, "acquireTimeout"],
        [{ maxLifetime: "soon" as any }, "maxLifetime"],
        [{ maxLifetimeJitter: 2 }, "maxLifetimeJitter"],
        [{ maxUses: 0 }, "maxUses"],
        [{ maxWaiters: -1 }, "maxWaiters"],
        [{ order: "random" as any }, "order"],
        [{ min: 3, maxIdle: 2 }, "maxIdle"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(Pool.make({ acquire, name: "cfg", ...options })))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect(error.option).toBe(option)
        expect(error.message).toContain(`pool "cfg": invalid option ${option}`)
      }
    }))

  it.effect("Pool.layerConfig reads its settings from Config; bad values are PoolConfigError", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      class Conns extends Context.Service<Conns, Pool.Pool<Conn, Error>>()("Conns") {}
      const layer = Pool.layerConfig(Conns, { acquire: backend.acquire }, {
        max: Config.Int("POOL_MAX"),
        min: Config.Int("POOL_MIN").pipe(Config.withDefault(0)),
        name: Config.String("POOL_NAME")
      })
      const from = (env: Record<string, string>) =>
        ConfigProvider.layer(ConfigProvider.fromEnv({ env }))
      const stats = yield* Effect.flatMap(Conns, (pool) => Pool.stats(pool)).pipe(
        Effect.provide(Layer.provide(layer, from({ POOL_MAX: "7", POOL_MIN: "2", POOL_NAME: "configured" })))
      )
      expect(stats).toMatchObject({ name: "configured", max: 7, min: 2 })
      const bad = yield* Effect.flip(Effect.provide(Conns, Layer.provide(layer, from({ POOL_MAX: "0", POOL_NAME: "x" }))))
      expect(bad).toMatchObject({ _tag: "PoolConfigError", option: "max" })
      const missing = yield* Effect.flip(Effect.provide(Conns, Layer.provide(layer, from({ POOL_MAX: "3" }))))
      expect(missing).toBeInstanceOf(Config.ConfigError)
    }))

  it.effect("a pool is a service: Pool.layer provides it and closes it with the layer", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      class Conns extends Context.Service<Conns, Pool.Pool<Conn, Error>>()("Conns") {}
      const ConnsLive = Pool.layer(Conns, { acquire: backend.acquire, min: 2, max: 4 })
      const id = yield* Effect.provide(
        Effect.flatMap(Conns, (pool) => Pool.use(pool, (c) => Effect.succeed(c.id))),
        ConnsLive
      )
      expect(id).toBeLessThan(2)
      expect(backend.alive.size).toBe(0)
      expect(backend.destroyed).toBe(backend.created)
    }))
})

describe("Pool: time-based eviction (TestClock)", () => {
  it.effect("destroys items idle past idleTimeout, keeping min", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 4, idleTimeout: "1 minute" })
      yield* Effect.forEach(Array.from({ length: 4 }), () => Pool.use(pool, () => Effect.yieldNow), {
        concurrency: "unbounded",
        discard: true
      })
      expect(stats(pool).size).toBe(4)
      yield* TestClock.adjust("59 seconds")
      yield* settle
      expect(stats(pool).size).toBe(4)
      yield* TestClock.adjust("1 second")
      yield* until("evicted to min", () => stats(pool).size === 1 && backend.destroyed === 3)
      yield* TestClock.adjust("10 minutes")
      yield* settle
      expect(stats(pool).size).toBe(1)
    }))

  it.effect("destroys items at maxLifetime, jittered so they do not all expire together, and tops up min", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 10, max: 10, maxLifetime: "100 seconds", maxLifetimeJitter: 0.2 })
      yield* until("min", () => stats(pool).idle === 10)
      const gone: Array<number> = []
      for (let s = 1; s <= 100; s++) {
        yield* TestClock.adjust("1 second")
        yield* settle
        gone.push(backend.destroyedIds.filter((id) => id < 10).length)
      }
      // none before 80 s (lifetime × (1 - jitter)), all by 100 s, and not all in the same second
      expect(gone[78]).toBe(0)
      expect(gone[99]).toBe(10)
      const firstSecond = gone.findIndex((n) => n > 0)
      expect(gone[firstSecond]).toBeLessThan(10)
      yield* until("topped up", () => stats(pool).idle === 10)
    }))

  it.effect("a borrowed item past its lifetime is destroyed when returned", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, maxLifetime: "10 seconds", maxLifetimeJitter: 0 })
      yield* Pool.use(pool, () => TestClock.adjust("11 seconds"))
      yield* until("destroyed", () => backend.destroyed === 1)
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(1)
    }))

  it.effect("destroys an item after maxUses borrows", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, maxUses: 3 })
      const ids: Array<number> = []
      for (let i = 0; i < 7; i++) ids.push(yield* Pool.use(pool, (c) => Effect.succeed(c.id)))
      expect(ids).toEqual([0, 0, 0, 1, 1, 1, 2])
    }))

  it.effect("health checks evict failing idle items on their schedule and top up min", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const sick = new Set<number>()
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        min: 3,
        max: 3,
        healthCheck: { check: (c) => (sick.has(c.id) ? Effect.fail("unhealthy") : Effect.void) }
      })
      yield* until("min", () => stats(pool).idle === 3)
      sick.add(1)
      yield* TestClock.adjust("29 seconds")
      yield* settle
      expect(backend.destroyed).toBe(0)
      yield* TestClock.adjust("1 second")
      yield* until("evicted and replaced", () => backend.destroyedIds.includes(1) && stats(pool).idle === 3)
      expect(backend.destroyed).toBe(1)
    }))

  it.effect("healthCheck.timeout bounds each check (not validateTimeout): a hanging check evicts its item at the timeout", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let hang = false
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        min: 1,
        max: 1,
        validateTimeout: "1 minute",
        healthCheck: { check: () => (hang ? Effect.never : Effect.void), schedule: Schedule.spaced("10 seconds"), timeout: "2 seconds" }
      })
      yield* until("min", () => stats(pool).idle === 1)
      hang = true
      yield* TestClock.adjust("10 seconds") // the check starts and hangs
      yield* settle
      yield* TestClock.adjust("1999 millis")
      yield* settle
      expect(backend.destroyed).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* until("evicted at the health check's timeout", () => backend.destroyed === 1)
    }))

  it.effect("health checks with onFailure \"suspend\": a failing item leaves rotation alive, borrowers wait (and time out naming the check's failure), and it comes back when a check passes", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let serving = true
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        min: 1,
        max: 1,
        acquireTimeout: "5 seconds",
        healthCheck: {
          check: () => (serving ? Effect.void : Effect.fail(new Error("not serving"))),
          schedule: Schedule.spaced("10 seconds"),
          onFailure: "suspend"
        }
      })
      yield* until("min", () => stats(pool).idle === 1)
      serving = false
      yield* TestClock.adjust("10 seconds")
      yield* until("suspended", () => stats(pool).suspended === 1)
      expect(stats(pool)).toMatchObject({ size: 1, idle: 0, suspended: 1 })
      // not lent while suspended: a borrower waits, and its timeout names the check's failure
      const refused = yield* Effect.forkChild(Effect.flip(Pool.use(pool, (c) => Effect.succeed(c.id))))
      yield* settle
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(refused)
      expect(error).toMatchObject({ _tag: "PoolTimeoutError", phase: "suspended" })
      expect((error as PoolTimeoutError).message).toMatch(/health check failure: not serving/)
      // still failing at the next check (t = 20 s): still suspended, still alive
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(stats(pool).suspended).toBe(1)
      // a borrower waiting when the check passes (t = 30 s) gets the same item, never destroyed
      yield* TestClock.adjust("7 seconds")
      const waiting = yield* Effect.forkChild(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* settle
      serving = true
      yield* TestClock.adjust("3 seconds")
      expect(yield* Fiber.join(waiting)).toBe(0)
      expect(stats(pool)).toMatchObject({ suspended: 0, size: 1 })
      expect(backend.created).toBe(1)
      expect(backend.destroyed).toBe(0)
    }))

  it.effect("a health check is not a use: checked items still reach idleTimeout", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 2,
        idleTimeout: "90 seconds",
        healthCheck: { check: () => Effect.void }
      })
      yield* Pool.use(pool, () => Effect.void)
      yield* TestClock.adjust("95 seconds")
      yield* until("idled out", () => backend.destroyed === 1)
    }))

  it.effect("a validate failure on borrow gets the borrower another item, not an error", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const broken = new Set<number>()
      const validated: Array<number> = []
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 3,
        validateAfterIdle: "1 second",
        validate: (c) => Effect.sync(() => validated.push(c.id)).pipe(Effect.andThen(broken.has(c.id) ? Effect.fail("gone") : Effect.void))
      })
      yield* Pool.use(pool, () => Effect.void) // item 0 created, never validated when new
      expect(validated).toEqual([])
      yield* Pool.use(pool, () => Effect.void) // idle < 1 s: not validated
      expect(validated).toEqual([])
      broken.add(0)
      yield* TestClock.adjust("2 seconds")
      const id = yield* Pool.use(pool, (c) => Effect.succeed(c.id))
      expect(id).toBe(1)
      expect(validated).toEqual([0])
      yield* until("broken destroyed", () => backend.destroyedIds.includes(0))
    }))
})

describe("Pool: leak detection", () => {
  it.effect("logs the borrow site of an item held past leakDetectionThreshold, once", () => {
    const logs: Array<string> = []
    const capture = Logger.layer([Logger.make(({ message }) => logs.push(String(message)))])
    return Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, leakDetectionThreshold: "5 seconds", name: "leaky" })
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void)) // return it even if an expect fails
      yield* Scope.provide(Pool.get(pool), scope)
      yield* TestClock.adjust("4900 millis")
      yield* settle
      expect(logs.filter((l) => l.includes("leakDetectionThreshold"))).toEqual([])
      yield* TestClock.adjust("100 millis")
      yield* until("leak logged", () => logs.some((l) => l.includes("leakDetectionThreshold")))
      const report = logs.find((l) => l.includes("leakDetectionThreshold"))!
      expect(report).toContain(`pool "leaky"`)
      expect(report).toContain("Pool.test.ts") // the borrow site
      yield* TestClock.adjust("20 seconds")
      yield* settle
      expect(logs.filter((l) => l.includes("leakDetectionThreshold")).length).toBe(1)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(capture))
  })
})

describe("Pool.use: a callback that throws", () => {
  it.effect("returns its item: borrowed back to 0, the next use gets it", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const exit = yield* Effect.exit(Pool.use(pool, (): Effect.Effect<void> => {
        throw new Error("sync throw")
      }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(stats(pool)).toMatchObject({ borrowed: 0, idle: 1, size: 1 })
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(0)
    }))
})
