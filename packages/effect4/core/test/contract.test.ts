/**
 * The kind-facing contract: the item handle `acquire` receives, and the `Borrow` object of
 * `unsafeBorrow` — the only two things a kind implementation needs of its pool.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { KeyedPool, Pool } from "../src/index.js"
import { Backend, type Conn, settle, stats, until } from "./helpers.js"

/** A resource that keeps its handle, as a socket whose `close` event invalidates it. */
interface Socket {
  readonly id: number
  readonly item: Pool.ItemHandle
}

const sockets = () => {
  let next = 0
  const made: Array<Socket> = []
  const acquire = (item: Pool.ItemHandle) =>
    Effect.sync(() => {
      const socket = { id: next++, item }
      made.push(socket)
      return socket
    })
  return { acquire, made }
}

describe("ItemHandle: what acquire receives", () => {
  it.effect("lets a resource invalidate itself from its own callback: destroyed at once when idle", () =>
    Effect.gen(function*() {
      const { acquire, made } = sockets()
      const pool = yield* Pool.make({ acquire, min: 1, max: 2 })
      yield* until("warm", () => stats(pool).idle === 1)
      const [socket] = made
      expect(socket.item.id).toBe(0)
      expect(socket.item.invalidated).toBe(false)
      socket.item.invalidate() // e.g. from socket.on("close")
      expect(socket.item.invalidated).toBe(true)
      // min 1: a replacement is created
      yield* until("replaced", () => made.length === 2 && stats(pool).idle === 1)
      expect(stats(pool)).toMatchObject({ invalidated: 1, destroyed: 1, size: 1 })
    }))

  it.effect("while borrowed: the item is destroyed when it comes back, not lent again", () =>
    Effect.gen(function*() {
      const { acquire } = sockets()
      const pool = yield* Pool.make({ acquire, max: 1 })
      const first = yield* Pool.use(pool, (socket) =>
        Effect.sync(() => {
          expect(socket.item.borrowers).toBe(1)
          socket.item.invalidate()
          return socket.id
        }))
      const second = yield* Pool.use(pool, (socket) => Effect.succeed(socket.id))
      expect([first, second]).toEqual([0, 1])
      expect(stats(pool)).toMatchObject({ invalidated: 1, size: 1 })
    }))

  it.effect("borrowers is the core's own count (concurrency > 1)", () =>
    Effect.gen(function*() {
      const { acquire, made } = sockets()
      const pool = yield* Pool.make({ acquire, max: 1, concurrency: 3 })
      const a = Pool.unsafeBorrow(pool, () => {})
      yield* until("lent", () => a.state === "held")
      const b = Pool.unsafeBorrow(pool, () => {})
      expect(made[0].item.borrowers).toBe(2)
      a.return()
      expect(made[0].item.borrowers).toBe(1)
      b.return()
      expect(made[0].item.borrowers).toBe(0)
    }))

  it.effect("invalidated while it is being created: that creation fails and is retried", () =>
    Effect.gen(function*() {
      let attempts = 0
      const pool = yield* Pool.make({
        acquire: (item: Pool.ItemHandle) =>
          Effect.sync(() => {
            attempts++
            if (attempts === 1) item.invalidate() // it broke before it was returned
            return { attempt: attempts, item }
          }),
        max: 1
      })
      const use = yield* Effect.forkChild(Pool.use(pool, (conn) => Effect.succeed(conn.attempt)))
      yield* until("retrying", () => stats(pool).failures === 1)
      yield* TestClock.adjust("1 second") // the creation retry's backoff
      expect(yield* Fiber.join(use)).toBe(2)
      expect(stats(pool)).toMatchObject({ created: 1, failures: 1, size: 1 })
    }))

  it.effect("Pool.invalidate finds an item by value without a scan, also with duplicate values", () =>
    Effect.gen(function*() {
      const shared = { shared: true }
      const pool = yield* Pool.make({ acquire: Effect.succeed(shared), min: 2, max: 2 })
      yield* until("warm", () => stats(pool).idle === 2)
      yield* Pool.invalidate(pool, shared)
      yield* Pool.invalidate(pool, shared)
      yield* until("both replaced", () => stats(pool).destroyed === 2 && stats(pool).idle === 2)
      yield* Pool.invalidate(pool, { shared: true }) // an equal object is not the item
      yield* settle
      expect(stats(pool)).toMatchObject({ invalidated: 2, destroyed: 2 })
    }))
})

describe("Borrow: what unsafeBorrow returns", () => {
  it.effect("moves waiting → held → returned; return is idempotent", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* until("warm", () => stats(pool).idle === 1)
      const seen: Array<string> = []
      const borrow = Pool.unsafeBorrow(pool, (held) => seen.push(held?.state ?? "failed"))
      expect(seen).toEqual(["held"])
      expect(borrow.state).toBe("held")
      expect(borrow.handle?.borrowers).toBe(1)
      borrow.return()
      borrow.return(Exit.fail("again"))
      expect(borrow.state).toBe("returned")
      expect(borrow.handle).toBeUndefined()
      expect(borrow.value.id).toBe(0) // still readable
      expect(stats(pool)).toMatchObject({ borrowed: 0, idle: 1, borrows: 1 })
    }))

  it.effect("cancel while waiting leaves no trace; cancel while held returns the item", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const holder = Pool.unsafeBorrow(pool, () => {})
      yield* until("lent", () => holder.state === "held")
      let called = false
      const waiter = Pool.unsafeBorrow(pool, () => (called = true))
      expect(waiter.state).toBe("waiting")
      waiter.cancel()
      waiter.cancel()
      expect(waiter.state).toBe("cancelled")
      expect(stats(pool).waiting).toBe(0)
      holder.cancel()
      expect(holder.state).toBe("returned")
      expect(called).toBe(false)
      expect(stats(pool)).toMatchObject({ borrowed: 0, idle: 1 })
    }))

  it.effect("a cancelled use reaches recycle as an interruption", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const exits: Array<string> = []
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        max: 1,
        recycle: (_, exit) => Effect.sync(() => exits.push(Exit.hasInterrupts(exit) ? "interrupted" : "other"))
      })
      const borrow = Pool.unsafeBorrow(pool, () => {})
      yield* until("lent", () => borrow.state === "held")
      borrow.cancel()
      yield* until("recycled", () => exits.length === 1)
      expect(exits).toEqual(["interrupted"])
    }))

  it.effect("retry returns the item and takes another, once by default; the callback runs again", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 2, max: 2, order: "fifo" })
      yield* until("warm", () => stats(pool).idle === 2)
      const got: Array<number> = []
      const retried: Array<boolean> = []
      const borrow = Pool.unsafeBorrow(pool, (held) => {
        got.push(held!.value.id)
        held!.invalidate() // found broken: nothing was sent
        retried.push(held!.retry())
      })
      expect(got).toEqual([0, 1])
      // the second call runs inside the first one's retry(): no retry left for it, so it holds
      expect(retried).toEqual([false, true])
      expect(borrow.state).toBe("held")
      borrow.return()
      yield* until("both replaced", () => stats(pool).destroyed === 2)
      expect(stats(pool)).toMatchObject({ invalidated: 2, borrowed: 0 })
    }))

  it.effect("retries: n allows n retries", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      let calls = 0
      const borrow = Pool.unsafeBorrow(pool, (held) => {
        calls++
        if (!held!.retry()) held!.return()
      }, { retries: 3 })
      yield* until("returned", () => borrow.state === "returned")
      expect(calls).toBe(4)
      expect(stats(pool)).toMatchObject({ borrows: 4, borrowed: 0 })
    }))

  it.effect("return(exit, { used: false }) and retry() do not count toward maxUses; a used return does, and the item is retired at maxUses", () =>
    Effect.gen(function*() {
      const { acquire, made } = sockets()
      const pool = yield* Pool.make({ acquire, max: 1, maxUses: 2 })
      const borrowOnce = (used: boolean | undefined) =>
        Effect.gen(function*() {
          const borrow = Pool.unsafeBorrow(pool, () => {})
          yield* until("held", () => borrow.state === "held")
          const handle = borrow.handle!
          borrow.return(Exit.void, used === undefined ? undefined : { used })
          borrow.return() // idempotent: not counted again
          return handle
        })
      const first = yield* borrowOnce(false) // e.g. the input could not be sent
      expect(first.uses).toBe(0)
      yield* borrowOnce(false)
      expect(first.uses).toBe(0)
      // a retry (nothing left the item) is not a use either
      let calls = 0
      const retried = Pool.unsafeBorrow(pool, (held) => {
        if (calls++ === 0) expect(held!.retry()).toBe(true)
      })
      yield* until("held again", () => retried.state === "held" && calls === 2)
      expect(first.uses).toBe(0)
      retried.return()
      expect(first.uses).toBe(1)
      expect(made).toHaveLength(1)
      const last = yield* borrowOnce(undefined) // used (the default): the second use retires it
      expect(last).toBe(first)
      expect(first.uses).toBe(2)
      yield* until("retired at maxUses", () => stats(pool).destroyed === 1)
      const next = yield* borrowOnce(true)
      expect(next).not.toBe(first)
      expect(made).toHaveLength(2)
      expect(next.uses).toBe(1)
    }))

  it.effect("KeyedPool: return(exit, { used: false }) is not a use of the key's item", () =>
    Effect.gen(function*() {
      const { acquire } = sockets()
      const pool = yield* KeyedPool.make({ acquire: (_key: string, item: Pool.ItemHandle) => acquire(item), maxPerKey: 1, maxUses: 1 })
      const borrow = KeyedPool.unsafeBorrow(pool, "a", () => {})
      yield* until("held", () => borrow.state === "held")
      const handle = borrow.handle!
      borrow.return(Exit.void, { used: false })
      expect(handle.uses).toBe(0)
      expect(handle.invalidated).toBe(false)
      const again = KeyedPool.unsafeBorrow(pool, "a", () => {})
      yield* until("held again", () => again.state === "held")
      expect(again.handle).toBe(handle)
      again.return()
      expect(handle.invalidated).toBe(true)
    }))

  it.effect("retries is checked before anything is borrowed: NaN, negative, fractional, a string, an unknown key", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      for (const options of [{ retries: Number.NaN }, { retries: -1 }, { retries: 1.5 }, { retries: "2" }, { retires: 2 }]) {
        expect(() => Pool.unsafeBorrow(pool, () => {}, options as never)).toThrow(TypeError)
      }
      expect(stats(pool)).toMatchObject({ borrows: 0, waiting: 0, creating: 0 })
      // 0 and Infinity are budgets: none, and no end
      const none = Pool.unsafeBorrow(pool, (held) => held?.retry() === false && held.return(), { retries: 0 })
      yield* until("returned", () => none.state === "returned")
      let calls = 0
      const endless = Pool.unsafeBorrow(pool, (held) => (++calls < 5 ? held!.retry() : held!.return()), { retries: Infinity })
      yield* until("returned", () => endless.state === "returned")
      expect(calls).toBe(5)
    }))

  it.effect("abort ends a wait with the kind's failure (a deadline, fail-fast); a no-op unless waiting", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, max: 1 })
      const holder = Pool.unsafeBorrow(pool, () => {})
      yield* until("held", () => holder.state === "held")
      const seen: Array<unknown> = []
      const waiting = Pool.unsafeBorrow(pool, (held, failure) => seen.push(held ?? Cause.squash(failure!)))
      expect(waiting.state).toBe("waiting")
      expect(stats(pool).waiting).toBe(1)
      waiting.abort(Cause.fail("deadline"))
      expect(waiting.state).toBe("failed")
      expect(seen).toEqual(["deadline"])
      expect(stats(pool).waiting).toBe(0)
      waiting.abort(Cause.fail("again")) // once
      waiting.cancel()
      expect(seen).toEqual(["deadline"])
      // a held borrow is not aborted: it still holds its item
      holder.abort(Cause.fail("late"))
      expect(holder.state).toBe("held")
      holder.return()
      // the item goes to nobody aborted: idle again, no borrower left
      expect(stats(pool)).toMatchObject({ idle: 1, borrowed: 0, waiting: 0 })
    }))

  it.effect("a failed borrow has state failed and the cause", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      const scope = yield* Scope.make()
      const pool = yield* Scope.provide(Pool.make({ acquire: backend.acquire, max: 1 }), scope)
      yield* Scope.close(scope, Exit.void)
      let failed = false
      const borrow = Pool.unsafeBorrow(pool, (held, cause) => (failed = held === undefined && cause !== undefined))
      expect(failed).toBe(true)
      expect(borrow.state).toBe("failed")
      expect(borrow.retry()).toBe(false)
    }))

  it.effect("KeyedPool: the borrow carries its key and returns to its key's pool", () =>
    Effect.gen(function*() {
      const keys: Array<string> = []
      const pool = yield* KeyedPool.make({
        acquire: (key: string, item: Pool.ItemHandle) => Effect.sync(() => ({ key, item })),
        maxPerKey: 1
      })
      const borrow = KeyedPool.unsafeBorrow(pool, "a", (held) => keys.push(held!.key))
      yield* until("lent", () => borrow.state === "held")
      expect(borrow.key).toBe("a")
      expect(borrow.value.item.borrowers).toBe(1)
      borrow.return()
      const s = yield* KeyedPool.stats(pool)
      expect(s.perKey.get("a")).toMatchObject({ borrowed: 0, idle: 1 })
      yield* KeyedPool.invalidate(pool, borrow.value)
      expect(borrow.value.item.invalidated).toBe(true)
      expect(keys).toEqual(["a"])
    }))
})

export type { Conn }
