/** The fiber-less lease API for kind implementations. */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Pool, PoolClosedError, PoolTimeoutError } from "../src/index.js"
import { Backend, type Conn, settle, until, stats } from "./helpers.js"

const failureOf = (cause: Cause.Cause<unknown> | undefined) => Option.getOrUndefined(Cause.findErrorOption(cause ?? Cause.empty))

describe("Pool.unsafeBorrow / unsafeReturn", () => {
  it.effect("lends an idle item synchronously", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* until("warm", () => stats(pool).idle === 1)
      let lease: Pool.Lease<Conn> | undefined
      Pool.unsafeBorrow(pool, (l) => (lease = l))
      expect(lease?.value.id).toBe(0) // before unsafeBorrow returned
      expect(stats(pool).borrowed).toBe(1)
      Pool.unsafeReturn(pool, lease!, Exit.void)
      expect(stats(pool)).toMatchObject({ borrowed: 0, idle: 1 })
    }))

  it.effect("hands a returned item to the next waiter inside unsafeReturn: no scheduler hop", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* until("warm", () => stats(pool).idle === 1)
      let first: Pool.Lease<Conn> | undefined
      Pool.unsafeBorrow(pool, (l) => (first = l))
      const order: Array<string> = []
      Pool.unsafeBorrow(pool, (l) => {
        order.push(`second got ${l?.value.id}`)
        Pool.unsafeReturn(pool, l!, Exit.void)
      })
      expect(stats(pool).waiting).toBe(1)
      Pool.unsafeReturn(pool, first!, Exit.void)
      order.push("returned")
      expect(order).toEqual(["second got 0", "returned"])
      expect(stats(pool)).toMatchObject({ waiting: 0, borrowed: 0, idle: 1, borrows: 2 })
    }))

  it.effect("a cancelled waiter leaves no trace", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const holder = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(holder, Exit.void))
      yield* Scope.provide(Pool.get(pool), holder)
      let called = false
      const borrow = Pool.unsafeBorrow(pool, () => (called = true))
      expect(stats(pool).waiting).toBe(1)
      borrow.cancel()
      expect(borrow.state).toBe("cancelled")
      expect(stats(pool).waiting).toBe(0)
      yield* Scope.close(holder, Exit.void)
      expect(called).toBe(false)
      expect(stats(pool)).toMatchObject({ idle: 1, borrowed: 0 })
    }))

  it.effect("a waiter gets PoolTimeoutError at acquireTimeout, and PoolClosedError once closed", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      backend.failWith = new Error("down")
      const scope = yield* Scope.make()
      const pool = yield* Scope.provide(Pool.make({ acquire: backend.acquire, max: 1, acquireTimeout: "1 second" }), scope)
      let failure: unknown
      Pool.unsafeBorrow(pool, (_, cause) => (failure = failureOf(cause)))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* until("timed out", () => failure !== undefined)
      expect(failure).toBeInstanceOf(PoolTimeoutError)
      expect(((failure as PoolTimeoutError).cause as Error).message).toBe("down")
      yield* Scope.close(scope, Exit.void)
      let closed: unknown
      Pool.unsafeBorrow(pool, (_, cause) => (closed = failureOf(cause)))
      expect(closed).toBeInstanceOf(PoolClosedError)
    }))

  it.effect("an item that needs validation is validated first, then lent", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let validations = 0
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 2,
        validateAfterIdle: "1 second",
        validate: () => Effect.sync(() => validations++)
      })
      yield* Pool.use(pool, () => Effect.void)
      yield* TestClock.adjust("2 seconds")
      let lease: Pool.Lease<Conn> | undefined
      Pool.unsafeBorrow(pool, (l) => (lease = l))
      yield* until("lent", () => lease !== undefined)
      expect(validations).toBe(1)
      Pool.unsafeReturn(pool, lease!, Exit.void)
    }))
})
