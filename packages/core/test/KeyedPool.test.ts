import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { KeyedPool, PoolClosedError, PoolConfigError } from "../src/index.js"
import { Backend, type Conn, settle, until } from "./helpers.js"

type KP = KeyedPool.KeyedPool<string, Conn & { key: string }, Error>

/** One backend per key, so a test can count what each key created and destroyed. */
const backends = () => {
  const byKey = new Map<string, Backend>()
  const of = (key: string) => {
    if (!byKey.has(key)) byKey.set(key, new Backend())
    return byKey.get(key)!
  }
  const acquire = (key: string) => Effect.map(of(key).acquire, (conn) => Object.assign(conn, { key }))
  const alive = () => [...byKey.values()].reduce((n, b) => n + b.alive.size, 0)
  return { of, acquire, alive }
}

const stats = (pool: KP) => Effect.runSync(KeyedPool.stats(pool))

describe("KeyedPool", () => {
  it.scoped("limits each key to maxPerKey and pools keys separately", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 2 })
      const inUse = new Map<string, number>()
      const peak = new Map<string, number>()
      yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? "a" : "b")),
        (key) =>
          KeyedPool.use(pool, key, (conn) =>
            Effect.gen(function*() {
              expect(conn.key).toBe(key)
              inUse.set(key, (inUse.get(key) ?? 0) + 1)
              peak.set(key, Math.max(peak.get(key) ?? 0, inUse.get(key)!))
              yield* Effect.yieldNow()
              inUse.set(key, inUse.get(key)! - 1)
            })),
        { concurrency: "unbounded", discard: true }
      )
      expect(peak.get("a")).toBe(2)
      expect(peak.get("b")).toBe(2)
      expect(b.of("a").created).toBe(2)
      expect(b.of("b").created).toBe(2)
      const s = stats(pool)
      expect(s).toMatchObject({ keys: 2, size: 4, idle: 4, borrows: 100 })
      expect(s.perKey.get("a")).toMatchObject({ size: 2, borrows: 50 })
    }))

  it.scoped("at maxTotal, makes room by destroying the oldest idle item of another key", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 5, maxTotal: 3 })
      // three items of "a", returned one second apart: the first returned is the oldest idle
      const scopes = [yield* Scope.make(), yield* Scope.make(), yield* Scope.make()]
      const held: Array<Conn> = []
      for (const scope of scopes) held.push(yield* Scope.extend(KeyedPool.get(pool, "a"), scope))
      for (const scope of scopes) {
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("1 second")
      }
      expect(stats(pool).perKey.get("a")?.idle).toBe(3)
      let peakAlive = 0
      const key = yield* KeyedPool.use(pool, "b", (conn) =>
        Effect.sync(() => {
          peakAlive = Math.max(peakAlive, b.alive())
          return conn.key
        }))
      expect(key).toBe("b")
      expect(peakAlive).toBeLessThanOrEqual(3)
      expect(b.of("a").destroyedIds).toEqual([held[0].id])
      expect(stats(pool)).toMatchObject({ size: 3, maxTotal: 3 })
    }))

  it.scoped("at maxTotal with every item borrowed, a key waits until another key returns one", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 5, maxTotal: 2 })
      const holders = yield* Scope.make()
      yield* Scope.extend(KeyedPool.get(pool, "a"), holders)
      yield* Scope.extend(KeyedPool.get(pool, "a"), holders)
      const waiter = yield* Effect.fork(KeyedPool.use(pool, "b", (conn) => Effect.succeed(conn.key)))
      yield* settle
      expect(waiter.unsafePoll()).toBeNull()
      expect(b.alive()).toBe(2)
      yield* Scope.close(holders, Exit.void)
      expect(yield* Fiber.join(waiter)).toBe("b")
      expect(b.alive()).toBeLessThanOrEqual(2)
    }))

  it.scoped("at maxTotal, keys waiting for a unit get them in the order they asked, each from a reclaimed idle item", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 5, maxTotal: 2 })
      const first = yield* Scope.make()
      const second = yield* Scope.make()
      const held = [yield* Scope.extend(KeyedPool.get(pool, "a"), first), yield* Scope.extend(KeyedPool.get(pool, "a"), second)]
      const forB = yield* Effect.fork(KeyedPool.use(pool, "b", (conn) => Effect.succeed(conn.key)))
      yield* settle
      const forC = yield* Effect.fork(KeyedPool.use(pool, "c", (conn) => Effect.succeed(conn.key)))
      yield* settle
      expect([forB.unsafePoll(), forC.unsafePoll()]).toEqual([null, null])
      // one item of "a" comes back: it is reclaimed for "b", which asked first
      yield* Scope.close(first, Exit.void)
      expect(yield* Fiber.join(forB)).toBe("b")
      expect(forC.unsafePoll()).toBeNull()
      expect(b.of("a").destroyedIds).toEqual([held[0].id])
      // the second one comes back: "c" gets the unit of the oldest idle item, "b"'s
      yield* Scope.close(second, Exit.void)
      expect(yield* Fiber.join(forC)).toBe("c")
      expect([b.of("a").destroyedIds, b.of("b").destroyed]).toEqual([[held[0].id], 1])
      expect(b.alive()).toBeLessThanOrEqual(2)
      expect(stats(pool).size).toBeLessThanOrEqual(2)
    }))

  it.scoped("keeps at most maxIdleTotal idle items across keys", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 3, maxIdleTotal: 4 })
      for (const key of ["a", "b"]) {
        yield* Effect.forEach(Array.from({ length: 3 }), () => KeyedPool.use(pool, key, () => Effect.yieldNow()), {
          concurrency: "unbounded",
          discard: true
        })
      }
      yield* until("trimmed", () => stats(pool).idle === 4 && stats(pool).destroying === 0)
      expect(b.of("a").destroyed + b.of("b").destroyed).toBe(2)
      expect(b.alive()).toBe(4)
    }))

  it.scoped("lends without a fiber through unsafeBorrow / unsafeReturn", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 1 })
      yield* KeyedPool.use(pool, "a", () => Effect.void)
      let lease: KeyedPool.Lease<Conn & { key: string }> | undefined
      KeyedPool.unsafeBorrow(pool, "a", (l) => (lease = l))
      expect(lease?.value.key).toBe("a")
      KeyedPool.unsafeInvalidate(pool, "a", lease!)
      KeyedPool.unsafeReturn(pool, "a", lease!, Exit.void)
      yield* until("destroyed", () => b.of("a").destroyed === 1)
    }))

  it.scoped("removes keys left unused for idleKeyTimeout, keeping the counters", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({
        acquire: b.acquire,
        idleTimeout: "1 minute",
        idleKeyTimeout: "2 minutes"
      })
      yield* KeyedPool.use(pool, "a", () => Effect.void)
      expect(stats(pool).keys).toBe(1)
      yield* TestClock.adjust("1 minute")
      yield* until("item evicted", () => b.of("a").destroyed === 1)
      expect(stats(pool).keys).toBe(1)
      yield* TestClock.adjust("2 minutes")
      yield* until("key removed", () => stats(pool).keys === 0)
      expect(stats(pool)).toMatchObject({ created: 1, destroyed: 1, borrows: 1 })
      // the key comes back on next use
      yield* KeyedPool.use(pool, "a", () => Effect.void)
      expect(stats(pool)).toMatchObject({ keys: 1, created: 2 })
    }))

  it.effect("a borrower's scope only returns the item; closing the pool destroys every key's items", () =>
    Effect.gen(function*() {
      const b = backends()
      const scope = yield* Scope.make()
      const pool: KP = yield* Scope.extend(KeyedPool.make({ acquire: b.acquire, maxPerKey: 2 }), scope)
      yield* Effect.scoped(KeyedPool.get(pool, "a"))
      yield* Effect.scoped(KeyedPool.get(pool, "b"))
      expect(b.alive()).toBe(2) // Effect 3's KeyedPool destroyed it with the borrower's scope
      yield* Scope.close(scope, Exit.void)
      expect(b.alive()).toBe(0)
      expect(b.of("a").destroyed + b.of("b").destroyed).toBe(2)
      const error = yield* Effect.flip(KeyedPool.use(pool, "c", () => Effect.void))
      expect(error).toBeInstanceOf(PoolClosedError)
    }))

  it.scoped("invalidate finds the item's key", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire })
      yield* KeyedPool.use(pool, "a", (conn) => KeyedPool.invalidate(pool, conn))
      yield* until("destroyed", () => b.of("a").destroyed === 1)
      expect(stats(pool).invalidated).toBe(1)
    }))

  it.effect("rejects bad keyed options with PoolConfigError", () =>
    Effect.gen(function*() {
      const acquire = (_: string) => Effect.succeed(1)
      const cases: Array<[Partial<KeyedPool.Options<string, number, never, never>>, string]> = [
        [{ maxTotal: 0 }, "maxTotal"],
        [{ maxPerKey: 0 }, "maxPerKey"],
        [{ idleKeyTimeout: -1 }, "idleKeyTimeout"],
        [{ maxTotal: 1.5 }, "maxTotal"],
        [{ maxIdleTotal: -1 }, "maxIdleTotal"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(KeyedPool.make({ acquire, ...options })))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect(error.option).toBe(option)
      }
    }))
})

describe("KeyedPool.use: a callback that throws", () => {
  it.scoped("returns its item to its key: borrowed back to 0, the next use gets it", () =>
    Effect.gen(function*() {
      const b = backends()
      const pool: KP = yield* KeyedPool.make({ acquire: b.acquire, maxPerKey: 1 })
      const exit = yield* Effect.exit(KeyedPool.use(pool, "a", (): Effect.Effect<void> => {
        throw new Error("sync throw")
      }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(stats(pool)).toMatchObject({ borrowed: 0, idle: 1, size: 1 })
      expect(yield* KeyedPool.use(pool, "a", (c) => Effect.succeed(c.id))).toBe(0)
    }))
})
