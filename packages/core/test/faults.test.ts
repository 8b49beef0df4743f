import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Exit, Fiber, Option, Schedule, Scope, TestClock } from "effect"
import { Pool, PoolClosedError, PoolQueueFullError, PoolTimeoutError } from "../src/index.js"
import { Backend, type Conn, settle, until, stats } from "./helpers.js"

const down = new Error("connection refused")
const messageOf = (u: unknown) => (u instanceof Error ? u.message : String(u))

/** A pool in a scope of its own, so a test can close it. */
const scopedPool = (options: Pool.Options<Conn, Error, never>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const pool = yield* Scope.extend(Pool.make(options), scope)
    return { pool, close: Scope.close(scope, Exit.void) }
  })

describe("creation failures", () => {
  it.scoped("waiters fail at acquireTimeout with the real cause, and the pool does not spin", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 2, acquireTimeout: "5 seconds" })
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("4999 millis")
      yield* settle
      expect(waiter.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(waiter)
      expect(error).toBeInstanceOf(PoolTimeoutError)
      const timeout = error as PoolTimeoutError
      expect(timeout.phase).toBe("create")
      // Effect wraps a failure in a Proxy to attach its span: compare messages, not identity
      expect(messageOf(timeout.cause)).toBe(down.message)
      expect(timeout.message).toContain("connection refused")
      // backoff: 10 ms doubling, capped at 1 s — a dozen attempts in 5 s, not thousands
      expect(backend.attempts).toBeGreaterThan(3)
      expect(backend.attempts).toBeLessThan(20)
      // nobody waits any more: retries stop
      const attempts = backend.attempts
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(backend.attempts).toBeLessThanOrEqual(attempts + 1)
      expect(stats(pool)).toMatchObject({ creating: 0, waiting: 0, timeouts: 1 })
    }))

  it.scoped("when the backend recovers the next borrow succeeds", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 2, acquireTimeout: "1 second" })
      const first = yield* Effect.fork(Effect.exit(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("1 second")
      expect(Exit.isFailure(yield* Fiber.join(first))).toBe(true)
      backend.failWith = undefined
      const second = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* TestClock.adjust("1 second") // the retry under way finishes its backoff (≤ 1 s)
      expect(yield* Fiber.join(second)).toBe(0)
    }))

  it.scoped("createRetry paces retries, and when it ends the waiter gets the creation error itself", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const times: Array<number> = []
      const acquire = Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => times.push(t))), backend.acquire)
      const pool = yield* Pool.make({
        acquire,
        max: 1,
        acquireTimeout: "1 minute",
        createRetry: Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))
      })
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("1 second")
      expect(messageOf(yield* Fiber.join(waiter))).toBe(down.message)
      expect(times).toEqual([0, 100, 200, 300])
    }))

  it.scoped("a creation slower than createTimeout counts as a failure", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.delay = 5_000
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, createTimeout: "1 second", acquireTimeout: "3 seconds" })
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("3 seconds")
      const error = (yield* Fiber.join(waiter)) as PoolTimeoutError
      expect(error._tag).toBe("PoolTimeoutError")
      expect(error.phase).toBe("create")
      expect(error.cause).toBeInstanceOf(PoolTimeoutError)
      expect((error.cause as PoolTimeoutError).phase).toBe("create")
      expect(stats(pool).failures).toBeGreaterThanOrEqual(2)
    }))
})

describe("regressions of Effect 3's Pool (shared/anchors.md)", () => {
  it.scoped("warm-up creation errors are not served to borrowers once the backend has recovered", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 3, max: 3 })
      yield* until("warm-up failed", () => stats(pool).failures >= 3)
      backend.failWith = undefined
      const borrowers = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 3 }), () => Pool.use(pool, (c) => Effect.succeed(c.id)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const ids = yield* Fiber.join(borrowers)
      expect(ids.length).toBe(3)
    }))

  it.scoped("Effect.timeout bounds a borrow while its item is being created; the item is kept", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.delay = 2_000
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const borrow = yield* Effect.fork(Effect.exit(Effect.timeout(Effect.scoped(Pool.get(pool)), "100 millis")))
      yield* TestClock.adjust("100 millis")
      const exit = yield* Fiber.join(borrow)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe(Option.map((e) => (e as { _tag?: string })._tag))).toEqual(
        Option.some("TimeoutException")
      )
      expect(yield* Clock.currentTimeMillis).toBe(100)
      yield* TestClock.adjust("2 seconds")
      yield* until("item kept idle", () => stats(pool).idle === 1)
      expect(backend.created).toBe(1)
    }))

  it.scoped("when every warm-up creation fails, concurrent borrowers fail at their timeout instead of hanging", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 2, max: 2, acquireTimeout: "1 second" })
      const borrowers = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 5 }), () => Effect.flip(Pool.use(pool, () => Effect.void)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const errors = yield* Fiber.join(borrowers)
      expect(errors.map((e) => messageOf((e as PoolTimeoutError).cause))).toEqual(Array(5).fill(down.message))
      expect(errors.every((e) => e instanceof PoolTimeoutError)).toBe(true)
    }))
})

describe("interruption and timeouts lose nothing", () => {
  it.scoped("an interrupted waiting borrower leaves no trace; the pool still lends max items", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 2 })
      const holders = yield* Scope.make()
      yield* Scope.extend(Pool.get(pool), holders)
      yield* Scope.extend(Pool.get(pool), holders)
      const waiters = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(Pool.use(pool, () => Effect.void)))
      yield* until("queued", () => stats(pool).waiting === 10)
      yield* Fiber.interruptAll(waiters)
      expect(stats(pool)).toMatchObject({ waiting: 0, borrowed: 2 })
      yield* Scope.close(holders, Exit.void)
      expect(stats(pool)).toMatchObject({ idle: 2, borrowed: 0 })
      const both = yield* Effect.all([Effect.scoped(Pool.get(pool)), Effect.scoped(Pool.get(pool))], { concurrency: 2 })
      expect(both.length).toBe(2)
      expect(backend.created).toBe(2)
    }))

  it.scoped("a borrower interrupted while its item is created: the item is kept, not leaked", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.delay = 1_000
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const borrower = yield* Effect.fork(Pool.use(pool, () => Effect.void))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(borrower)
      yield* TestClock.adjust("500 millis")
      yield* until("idle", () => stats(pool).idle === 1)
      expect(stats(pool)).toMatchObject({ size: 1, borrowed: 0, waiting: 0, creating: 0 })
    }))

  it.scoped("a borrower interrupted while holding an item returns it through recycle", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const exits: Array<Exit.Exit<unknown, unknown>> = []
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, recycle: (_c, exit) => Effect.sync(() => exits.push(exit)) })
      let using = false
      const holder = yield* Effect.fork(Pool.use(pool, () => Effect.zipRight(Effect.sync(() => (using = true)), Effect.never)))
      yield* until("in use", () => using)
      yield* Fiber.interrupt(holder)
      expect(exits.length).toBe(1)
      expect(Exit.isInterrupted(exits[0])).toBe(true)
      expect(stats(pool)).toMatchObject({ idle: 1, borrowed: 0 })
      // and with Effect.timeout around the whole use
      const timed = yield* Effect.fork(Effect.timeout(Pool.use(pool, () => Effect.never), "1 second"))
      yield* TestClock.adjust("1 second")
      yield* Fiber.await(timed)
      expect(exits.length).toBe(2)
      expect(stats(pool)).toMatchObject({ idle: 1, borrowed: 0 })
    }))

  it.scoped("a recycle that hangs is cut off at recycleTimeout and the item destroyed", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, recycle: () => Effect.never, recycleTimeout: "2 seconds" })
      const borrower = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* until("recycling", () => backend.created === 1)
      yield* settle
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(borrower)).toBe(0)
      yield* until("destroyed", () => backend.destroyed === 1)
      expect(stats(pool)).toMatchObject({ size: 0, borrowed: 0, invalidated: 1 })
    }))

  it.scoped("timing out while waiting for a returned item says phase 'wait'", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, acquireTimeout: "1 second" })
      const holder = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(holder, Exit.void))
      yield* Scope.extend(Pool.get(pool), holder)
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("1 second")
      const error = (yield* Fiber.join(waiter)) as PoolTimeoutError
      expect(error.phase).toBe("wait")
      expect(error.cause).toBeUndefined()
      expect(Duration.toMillis(error.timeout)).toBe(1000)
    }))

  it.scoped("maxWaiters sheds load with PoolQueueFullError", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, maxWaiters: 2 })
      const holder = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(holder, Exit.void))
      yield* Scope.extend(Pool.get(pool), holder)
      yield* Effect.fork(Pool.use(pool, () => Effect.void))
      yield* Effect.fork(Pool.use(pool, () => Effect.void))
      yield* until("two waiting", () => stats(pool).waiting === 2)
      const error = yield* Effect.flip(Pool.use(pool, () => Effect.void))
      expect(error).toBeInstanceOf(PoolQueueFullError)
    }))

  it.scoped("maxWaiters counts only borrowers beyond what the items being created will serve", () =>
    Effect.gen(function*() {
      // as piscina's maxQueue: the borrower a starting item will serve is not queued
      const backend = new Backend()
      backend.delay = 1_000
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1, maxWaiters: 2 })
      const borrowers = yield* Effect.forEach(
        [1, 2, 3],
        () => Effect.fork(Pool.use(pool, () => Effect.void)),
        { concurrency: "unbounded" }
      )
      yield* until("three waiting, one item starting", () => stats(pool).waiting === 3 && stats(pool).creating === 1)
      const error = yield* Effect.flip(Pool.use(pool, () => Effect.void))
      expect(error).toBeInstanceOf(PoolQueueFullError)
      yield* TestClock.adjust("1 second")
      yield* Fiber.joinAll(borrowers)
      expect(stats(pool).borrows).toBe(3)
    }))

  it.scoped("maxWaiters 0 lets a borrower wait for the item that an item being destroyed makes room for", () =>
    Effect.gen(function*() {
      let created = 0
      // the first item's destruction takes a second (a thread exiting, a polite goodbye)
      const acquire = Effect.acquireRelease(
        Effect.sync(() => ++created),
        (n) => (n === 1 ? Effect.sleep("1 second") : Effect.void)
      )
      const pool = yield* Pool.make({ acquire, max: 1, maxWaiters: 0 })
      yield* Pool.use(pool, (item) => Pool.invalidate(pool, item))
      expect(stats(pool)).toMatchObject({ size: 0, destroying: 1 })
      const borrower = yield* Effect.fork(Pool.use(pool, (item) => Effect.succeed(item)))
      yield* until("waiting", () => stats(pool).waiting === 1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(borrower)).toBe(2)
    }))

  it.scoped("maxWaiters 0 still lets a borrower wait for the item created for it", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.delay = 1_000
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 2, maxWaiters: 0 })
      const first = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      const second = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* until("two creating", () => stats(pool).creating === 2)
      // the pool is at max with both items promised: a third borrower would have to queue
      expect(yield* Effect.flip(Pool.use(pool, () => Effect.void))).toBeInstanceOf(PoolQueueFullError)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(stats(pool).borrows).toBe(2)
    }))
})

describe("warm-up: awaitMin and closeOnFailure", () => {
  it.effect("awaitMin returns once min items are ready, not after the first", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let n = 0
      // each creation takes one second longer than the one before
      const acquire = Effect.suspend(() => Effect.zipRight(Effect.sleep(Duration.seconds(++n)), backend.acquire))
      const { pool } = yield* scopedPool({ acquire, min: 3, max: 3 })
      const warm = yield* Effect.fork(Pool.awaitMin(pool))
      yield* TestClock.adjust("2 seconds")
      expect(stats(pool).size).toBe(2)
      expect(Option.isNone(yield* Fiber.poll(warm))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(warm)
      expect(stats(pool)).toMatchObject({ size: 3, idle: 3, borrows: 0 })
    }))

  it.effect("awaitMin's timeout option bounds the warm-up instead of acquireTimeout (0: a borrower may not wait, a warm-up may)", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const acquire = Effect.zipRight(Effect.sleep("1 second"), backend.acquire)
      const { pool } = yield* scopedPool({ acquire, min: 2, max: 2, acquireTimeout: 0 })
      // bounded by acquireTimeout 0: a timeout at once
      expect(yield* Effect.flip(Pool.awaitMin(pool))).toMatchObject({ _tag: "PoolTimeoutError" })
      const warm = yield* Effect.fork(Pool.awaitMin(pool, { timeout: "5 seconds" }))
      yield* TestClock.adjust("500 millis")
      expect(Option.isNone(yield* Fiber.poll(warm))).toBe(true)
      yield* TestClock.adjust("500 millis")
      yield* Fiber.join(warm)
      expect(stats(pool)).toMatchObject({ size: 2, idle: 2 })
    }))

  it.effect("a failed warm-up fails make with the creation error and stops every retry", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const outer = yield* Scope.make()
      const error = yield* Scope.extend(
        Effect.flip(Pool.closeOnFailure(Effect.tap(
          Pool.make({ acquire: backend.acquire, min: 2, max: 2, failWaitersOnCreateError: true }),
          Pool.awaitMin
        ))),
        outer
      )
      expect(messageOf(error)).toBe(down.message)
      const attempts = backend.attempts
      // the caller's scope is still open: nothing the failed make started may go on in it
      yield* TestClock.adjust("1 minute")
      expect(backend.attempts).toBe(attempts)
      yield* Scope.close(outer, Exit.void)
    }))

  it.effect("without failWaitersOnCreateError the warm-up waits up to acquireTimeout and names the last failure", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = down
      const outer = yield* Scope.make()
      const warm = yield* Effect.fork(Scope.extend(
        Effect.flip(Pool.closeOnFailure(Effect.tap(
          Pool.make({ acquire: backend.acquire, min: 1, acquireTimeout: "5 seconds" }),
          Pool.awaitMin
        ))),
        outer
      ))
      yield* TestClock.adjust("5 seconds")
      const error = (yield* Fiber.join(warm)) as PoolTimeoutError
      expect(error).toMatchObject({ _tag: "PoolTimeoutError", phase: "create" })
      expect(messageOf(error.cause)).toBe(down.message)
      const attempts = backend.attempts
      yield* TestClock.adjust("1 minute")
      expect(backend.attempts).toBe(attempts)
      yield* Scope.close(outer, Exit.void)
    }))

  it.effect("closeOnFailure leaves a made pool to the caller's scope", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const outer = yield* Scope.make()
      const pool = yield* Scope.extend(Pool.closeOnFailure(Pool.make({ acquire: backend.acquire, min: 1 })), outer)
      yield* until("created", () => stats(pool).idle === 1)
      expect(stats(pool).closed).toBe(false)
      yield* Scope.close(outer, Exit.void)
      expect(stats(pool)).toMatchObject({ closed: true, size: 0 })
    }))
})

describe("closing", () => {
  it.effect("waits for a creation it interrupts that cannot stop at once, and releases what it made", () =>
    Effect.gen(function*() {
      let opened = 0
      let closed = 0
      // an uninterruptible acquire, as Effect.acquireRelease's is: a thread or socket being opened
      const acquire = Effect.acquireRelease(
        Effect.zipRight(Effect.sleep("5 seconds"), Effect.sync(() => ++opened)),
        () => Effect.sync(() => closed++)
      )
      const { pool, close } = yield* scopedPool({ acquire, min: 1, max: 1 } as never)
      yield* until("creating", () => stats(pool).creating === 1)
      const closing = yield* Effect.fork(close)
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* Fiber.poll(closing))).toBe(true) // still waiting for the creation
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(closing)
      expect({ opened, closed }).toEqual({ opened: 1, closed: 1 })
    }))

  it.effect("rejects waiters, destroys borrowed items when returned, and every item exactly once", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, min: 2, max: 3 })
      const holder = yield* Scope.make()
      const held = yield* Scope.extend(Pool.get(pool), holder)
      yield* Scope.extend(Pool.get(pool), holder)
      yield* Scope.extend(Pool.get(pool), holder)
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* until("waiting", () => stats(pool).waiting === 1)
      const closing = yield* Effect.fork(close)
      expect(yield* Fiber.join(waiter)).toBeInstanceOf(PoolClosedError)
      expect(held.open).toBe(true) // still in use: not destroyed under the borrower
      expect(yield* Effect.flip(Pool.use(pool, () => Effect.void))).toBeInstanceOf(PoolClosedError)
      yield* Scope.close(holder, Exit.void)
      yield* Fiber.join(closing)
      expect(backend.alive.size).toBe(0)
      expect(backend.destroyed).toBe(backend.created)
      expect(new Set(backend.destroyedIds).size).toBe(backend.destroyedIds.length)
      expect(stats(pool)).toMatchObject({ closed: true, size: 0 })
    }))

  it.effect("destroys items never returned once shutdownTimeout passes", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, max: 2, shutdownTimeout: "5 seconds" })
      const forgotten = yield* Scope.make()
      const conn = yield* Scope.extend(Pool.get(pool), forgotten)
      const closing = yield* Effect.fork(close)
      yield* until("closing", () => stats(pool).closed)
      yield* settle // the drain timer is a forked fiber: let it start before moving the clock
      yield* TestClock.adjust("4 seconds")
      expect(closing.unsafePoll()).toBeNull()
      expect(conn.open).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      expect(conn.open).toBe(false)
      // the late return is harmless
      yield* Scope.close(forgotten, Exit.void)
      expect(backend.destroyed).toBe(1)
    }))

  it.effect("an item whose finalizer hangs does not hang close: it is given up after destroyTimeout", () =>
    Effect.gen(function*() {
      let released = 0
      const acquire = Effect.acquireRelease(Effect.succeed({ id: 0, open: true }), (c) =>
        c.id === 0 ? Effect.never : Effect.sync(() => released++))
      const scope = yield* Scope.make()
      const pool = yield* Scope.extend(Pool.make({ acquire, max: 1, destroyTimeout: "2 seconds" }), scope)
      yield* Pool.use(pool, () => Effect.void)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* until("closing", () => stats(pool).closed)
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(closing.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      expect(stats(pool)).toMatchObject({ size: 0, destroying: 0, destroyed: 1 })
      expect(released).toBe(0) // the hung finalizer never finished: it was given up on, not waited for
    }))

  it.effect("a slow finalizer: its item counts as destroying until it ends, and close waits for it", () =>
    Effect.gen(function*() {
      let released = 0
      const acquire = Effect.acquireRelease(Effect.succeed({ open: true }), () =>
        Effect.delay(Effect.sync(() => released++), "3 seconds"))
      for (const destroyTimeout of ["10 seconds", Infinity] as const) {
        released = 0
        const scope = yield* Scope.make()
        const pool = yield* Scope.extend(Pool.make({ acquire, max: 1, destroyTimeout }), scope)
        yield* Pool.use(pool, () => Effect.void)
        yield* Pool.evictIdle(pool)
        yield* settle
        expect(stats(pool)).toMatchObject({ size: 0, destroying: 1, destroyed: 0 })
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* TestClock.adjust("2 seconds")
        yield* settle
        expect(closing.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        expect(released).toBe(1)
        expect(stats(pool)).toMatchObject({ size: 0, destroying: 0, destroyed: 1 })
      }
    }))

  it.effect("interrupts creations under way and closes their partial scopes", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.delay = 10_000
      let partial = 0
      const acquire = Effect.zipRight(
        Effect.acquireRelease(Effect.sync(() => partial++), () => Effect.sync(() => partial--)),
        backend.acquire
      )
      const { pool, close } = yield* scopedPool({ acquire, min: 3, max: 3 })
      yield* until("creating", () => partial === 3)
      yield* close
      yield* until("partial scopes closed", () => partial === 0)
      expect(backend.created).toBe(0)
      expect(stats(pool)).toMatchObject({ creating: 0, size: 0 })
    }))
})

describe("user callbacks that throw instead of returning an Effect", () => {
  const sync = (what: string) => (): never => {
    throw new Error(`${what} sync`)
  }

  it.effect("a recycle that throws destroys the item like a failing recycle: the borrow succeeds and the slot comes back", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, max: 1, shutdownTimeout: 100, recycle: sync("recycle") })
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(0)
      expect(stats(pool).borrowed).toBe(0)
      // through Pool.get's scope too
      expect(yield* Effect.scoped(Effect.map(Pool.get(pool), (c) => c.id))).toBe(1)
      expect(stats(pool).borrowed).toBe(0)
      const next = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* until("the next borrower is served", () => next.unsafePoll() !== null)
      expect(yield* Fiber.join(next)).toBe(2)
      yield* until("recycled-out items destroyed", () => backend.destroyed === 3)
      expect(stats(pool)).toMatchObject({ borrowed: 0, invalidated: 3 })
      yield* close
    }))

  it.effect("a validate that throws is a failed validation: the item is destroyed and the borrower gets another", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({
        acquire: backend.acquire,
        max: 1,
        validate: (c) => (c.id === 0 ? sync("validate")() : Effect.void)
      })
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(0) // new: not validated
      const second = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* until("the second borrower is served", () => second.unsafePoll() !== null)
      expect(yield* Fiber.join(second)).toBe(1)
      yield* until("the item that failed validation destroyed", () => backend.destroyedIds.includes(0))
      expect(stats(pool)).toMatchObject({ borrowed: 0, size: 1 })
      yield* close
    }))

  it.effect("a healthCheck.check that throws fails the check: the item is evicted, min topped up, checks go on", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({
        acquire: backend.acquire,
        min: 1,
        max: 1,
        healthCheck: { check: (c) => (c.id < 2 ? sync("check")() : Effect.void), schedule: Schedule.spaced("10 seconds") }
      })
      yield* until("min", () => stats(pool).idle === 1)
      yield* TestClock.adjust("10 seconds")
      yield* until("evicted and replaced", () => backend.destroyedIds.includes(0) && stats(pool).idle === 1)
      // the checker still runs: the next round evicts item 1 too
      yield* TestClock.adjust("10 seconds")
      yield* until("evicted again", () => backend.destroyedIds.includes(1) && stats(pool).idle === 1)
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(2)
      yield* close
    }))

  it.effect("a healthCheck.onFailure that throws evicts (the default) and checks go on", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({
        acquire: backend.acquire,
        min: 1,
        max: 1,
        healthCheck: {
          check: (c) => (c.id < 2 ? Effect.fail("unhealthy") : Effect.void),
          schedule: Schedule.spaced("10 seconds"),
          onFailure: sync("onFailure")
        }
      })
      yield* until("min", () => stats(pool).idle === 1)
      yield* TestClock.adjust("10 seconds")
      yield* until("evicted and replaced", () => backend.destroyedIds.includes(0) && stats(pool).idle === 1)
      yield* TestClock.adjust("10 seconds")
      yield* until("evicted again", () => backend.destroyedIds.includes(1) && stats(pool).idle === 1)
      expect(stats(pool)).toMatchObject({ suspended: 0, borrowed: 0 })
      yield* close
    }))

  it.effect("an acquire function that throws is a failed creation, retried: the borrower is served when it stops", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let throws = 2
      const { pool, close } = yield* scopedPool({
        acquire: () => (throws-- > 0 ? sync("acquire")() : backend.acquire),
        max: 1
      })
      const borrow = yield* Effect.fork(Pool.use(pool, (c) => Effect.succeed(c.id)))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* until("served", () => borrow.unsafePoll() !== null)
      expect(yield* Fiber.join(borrow)).toBe(0)
      expect(stats(pool)).toMatchObject({ borrowed: 0, failures: 2, size: 1 })
      yield* close
    }))

  it.effect("a release that throws: the item still counts as destroyed, its slot comes back, close ends", () =>
    Effect.gen(function*() {
      let made = 0
      const { pool, close } = yield* scopedPool({
        acquire: Effect.acquireRelease(Effect.sync(() => ({ id: made++, open: true })), sync("release")),
        max: 1
      })
      yield* Pool.use(pool, (c) => Pool.invalidate(pool, c))
      yield* until("destroyed", () => stats(pool).destroyed === 1)
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(1)
      yield* close
      expect(stats(pool)).toMatchObject({ size: 0, destroyed: 2, borrowed: 0 })
    }))
})

describe("a kind's borrow callback that throws (Pool.unsafeBorrow)", () => {
  const kindBug = () => {
    throw new Error("kind bug")
  }

  it.effect("thrown when told of its timeout: the pool's timer goes on, later waiters still time out", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, max: 1, acquireTimeout: "100 millis" })
      const held = Pool.unsafeBorrow(pool, () => {})
      yield* until("the item is held", () => held.state === "held")
      Pool.unsafeBorrow(pool, (borrow) => {
        if (borrow === undefined) kindBug()
      })
      yield* TestClock.adjust("200 millis")
      const later = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* TestClock.adjust("200 millis")
      expect(yield* Fiber.join(later)).toBeInstanceOf(PoolTimeoutError)
      held.return()
      yield* close
    }))

  it.effect("thrown when handed an item another borrower returned: that return goes through, the item is not reused", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, max: 1 })
      const held = Pool.unsafeBorrow(pool, () => {})
      yield* until("the item is held", () => held.state === "held")
      Pool.unsafeBorrow(pool, (borrow) => {
        if (borrow !== undefined) kindBug()
      })
      expect(() => held.return()).not.toThrow()
      expect(yield* Pool.use(pool, (c) => Effect.succeed(c.id))).toBe(1) // a fresh item
      yield* until("the item the callback threw on destroyed", () => backend.destroyedIds.includes(0))
      expect(stats(pool).borrowed).toBe(0)
      yield* close
    }))

  it.effect("thrown when told the pool closed: the close goes on and every other waiter is told", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const { pool, close } = yield* scopedPool({ acquire: backend.acquire, max: 1, shutdownTimeout: "100 millis" })
      const held = Pool.unsafeBorrow(pool, () => {})
      yield* until("the item is held", () => held.state === "held")
      Pool.unsafeBorrow(pool, (borrow) => {
        if (borrow === undefined) kindBug()
      })
      const waiter = yield* Effect.fork(Effect.flip(Pool.use(pool, () => Effect.void)))
      yield* until("the waiter is queued", () => stats(pool).waiting === 2)
      const closing = yield* Effect.fork(Effect.exit(close))
      yield* TestClock.adjust("200 millis")
      expect(Exit.isSuccess(yield* Fiber.join(closing))).toBe(true)
      expect(yield* Fiber.join(waiter)).toBeInstanceOf(PoolClosedError)
    }))
})
