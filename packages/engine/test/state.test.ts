/** The functional core on its own: transitions and the commands they return, no Effect runtime. */
import { describe, expect, it } from "vitest"
import * as Core from "../src/state.js"
import { config } from "./helpers.js"
const waiter = (at = 0): Core.Waiter<string> => ({ enqueuedAt: at, item: undefined, error: undefined, settled: false, notify: undefined })
const tags = (out: ReadonlyArray<Core.Command<string>>) => out.map((c) => c._tag)

describe("pool state transitions", () => {
  it("starts one creation per uncovered waiter, never past max", () => {
    const state = new Core.PoolState<string>(config({ max: 2 }))
    const out: Array<Core.Command<string>> = []
    for (let i = 0; i < 5; i++) expect(Core.enqueue(state, waiter(), out)).toBe("wait")
    expect(tags(out)).toEqual(["Create", "Create"])
    expect(state.creating).toBe(2)
  })

  it("with concurrency, one creation covers several waiters", () => {
    const state = new Core.PoolState<string>(config({ max: 4, concurrency: 3 }))
    const out: Array<Core.Command<string>> = []
    for (let i = 0; i < 7; i++) Core.enqueue(state, waiter(), out)
    expect(tags(out)).toEqual(["Create", "Create", "Create"])
    const item = Core.newItem(state, "conn", undefined, 0, 0)
    const handed: Array<Core.Command<string>> = []
    Core.created(state, item, 0, handed)
    expect(tags(handed)).toEqual(["Hand", "Hand", "Hand"])
    expect(item.borrowers).toBe(3)
  })

  it("a suspended item is kept but never lent, a call in flight on it is not offered when it ends, and it counts until it passes or is destroyed", () => {
    const state = new Core.PoolState<string>(config({ max: 2, concurrency: 2, maxLifetime: 60_000 }))
    const out: Array<Core.Command<string>> = []
    Core.enqueue(state, waiter(), out)
    const item = Core.newItem(state, "conn", undefined, 0, 0)
    Core.created(state, item, 0, out) // lent to the waiter: one call in flight
    expect(Core.checkOut(state)).toEqual([item])
    Core.checked(state, item, false, 1, out, true, "NOT_SERVING")
    expect([item.suspended, item.destroyed, state.suspended, state.lastCheckError]).toEqual([true, false, 1, "NOT_SERVING"])
    expect(Core.take(state, 2, out)).toBeUndefined()
    Core.release(state, item, 3, out) // the call in flight ends: not offered
    expect(state.idle).toEqual([])
    expect(Core.checkOut(state)).toEqual([item]) // checked again
    Core.checked(state, item, true, 4, out, true)
    expect([item.suspended, state.suspended, state.idle]).toEqual([false, 0, [item]])
    // suspended again, then destroyed (lifetime over): no longer counted
    Core.checkOut(state)
    Core.checked(state, item, false, 5, out, true, "NOT_SERVING")
    const evicted: Array<Core.Command<string>> = []
    Core.evict(state, 61_000, evicted)
    Core.take(state, 61_000, evicted)
    expect([item.destroyed, state.suspended]).toEqual([true, 0])
  })

  it("an item its kind holds (ItemHandle.suspend) is not lent, stays out when returned, and comes back on unhold (idle, or to a waiter)", () => {
    const state = new Core.PoolState<string>(config({ max: 2 }))
    const out: Array<Core.Command<string>> = []
    Core.enqueue(state, waiter(), out)
    const item = Core.newItem(state, "conn", undefined, 0, 0)
    Core.created(state, item, 0, out) // lent
    Core.hold(state, item)
    Core.release(state, item, 1, out) // returned while held: not idle
    expect([item.held, state.idle]).toEqual([true, []])
    expect(Core.take(state, 2, out)).toBeUndefined()
    expect(Core.checkOut(state)).toEqual([]) // a health check does not let it back either
    // a waiter meanwhile gets a new item, not the held one
    const next: Array<Core.Command<string>> = []
    const w = waiter(3)
    Core.enqueue(state, w, next)
    expect(tags(next)).toEqual(["Create"])
    Core.creationAborted(state, next)
    const back: Array<Core.Command<string>> = []
    Core.unhold(state, item, 4, back)
    expect(tags(back)).toEqual(["Hand"])
    expect([item.held, item.borrowers, w.item]).toEqual([false, 1, item])
    Core.release(state, item, 5, back)
    expect(state.idle).toEqual([item])
    // idle, then held: out of the idle list; unhold puts it back with its idle age
    Core.hold(state, item)
    expect(state.idle).toEqual([])
    Core.unhold(state, item, 9, back)
    expect([state.idle, item.idleSince]).toEqual([[item], 5])
    // invalidated while held: destroyed, unhold does nothing more
    Core.hold(state, item)
    const gone: Array<Core.Command<string>> = []
    Core.invalidate(state, item, gone)
    expect(tags(gone)).toEqual(["Destroy"])
    Core.unhold(state, item, 10, gone)
    expect(tags(gone)).toEqual(["Destroy"])
  })

  it("close destroys held items that are not borrowed", () => {
    const state = new Core.PoolState<string>(config({ max: 2 }))
    const out: Array<Core.Command<string>> = []
    Core.enqueue(state, waiter(), out)
    const item = Core.newItem(state, "conn", undefined, 0, 0)
    Core.created(state, item, 0, out)
    Core.release(state, item, 1, out)
    Core.hold(state, item)
    const closing: Array<Core.Command<string>> = []
    Core.close(state, new Error("closed"), closing)
    expect(tags(closing)).toEqual(["Destroy"])
  })

  it("a returned item goes to the oldest waiter first", () => {
    const state = new Core.PoolState<string>(config({ max: 1 }))
    const out: Array<Core.Command<string>> = []
    Core.enqueue(state, waiter(), out)
    const item = Core.newItem(state, "conn", undefined, 0, 0)
    Core.created(state, item, 0, out)
    const [second, third] = [waiter(1), waiter(2)]
    Core.enqueue(state, second, out)
    Core.enqueue(state, third, out)
    const back: Array<Core.Command<string>> = []
    Core.release(state, item, 5, back)
    expect(back).toEqual([{ _tag: "Hand", waiter: second, item }])
    expect(state.waiters).toEqual([third])
  })

  it("expire rejects exactly the waiters past acquireTimeout, oldest first", () => {
    const state = new Core.PoolState<string>(config({ max: 1, acquireTimeout: 100 }))
    const out: Array<Core.Command<string>> = []
    const [a, b, c] = [waiter(0), waiter(50), waiter(120)]
    for (const w of [a, b, c]) Core.enqueue(state, w, out)
    const rejected: Array<Core.Command<string>> = []
    Core.expire(state, 150, () => "timeout", rejected)
    expect(rejected.map((c) => (c as { waiter: unknown }).waiter)).toEqual([a, b])
    expect(state.waiters).toEqual([c])
    expect(state.timeouts).toBe(2)
    expect(Core.nextExpiry(state)).toBe(220)
  })

  it("a failed creation is retried only while someone still needs it", () => {
    const state = new Core.PoolState<string>(config({ max: 2, min: 0 }))
    const out: Array<Core.Command<string>> = []
    const w = waiter()
    Core.enqueue(state, w, out)
    expect(Core.createFailed(state, "refused", "refused", [])).toBe(true)
    Core.cancel(state, w, 0, out)
    expect(Core.createFailed(state, "refused", "refused", [])).toBe(false)
    expect(state.creating).toBe(0)
    expect(state.lastError).toBe("refused")
  })

  it("failWaitersOnCreateError: a failed creation rejects every waiter with its cause and is not retried for them", () => {
    const state = new Core.PoolState<string>(config({ max: 2, min: 0, failWaitersOnCreateError: true }))
    const out: Array<Core.Command<string>> = []
    const waiters = [waiter(), waiter(), waiter()]
    for (const w of waiters) Core.enqueue(state, w, out)
    out.length = 0
    expect(Core.createFailed(state, "boom", "cause: boom", out)).toBe(false)
    expect(out.map((c) => c._tag)).toEqual(["Reject", "Reject", "Reject"])
    expect(waiters.map((w) => [w.settled, w.error])).toEqual(waiters.map(() => [true, "cause: boom"]))
    expect(state.waiters).toEqual([])
  })

  it("close rejects waiters and destroys idle items; borrowed ones are destroyed on return", () => {
    const state = new Core.PoolState<string>(config({ max: 3 }))
    const out: Array<Core.Command<string>> = []
    for (let i = 0; i < 3; i++) Core.enqueue(state, waiter(), out)
    const [x, y, z] = ["x", "y", "z"].map((v) => Core.newItem(state, v, undefined, 0, 0))
    for (const item of [x, y, z]) Core.created(state, item, 0, out)
    Core.release(state, z, 1, out) // z idle; x and y borrowed
    const late = waiter(2)
    expect(Core.take(state, 2, out)).toBe(z)
    expect(Core.take(state, 2, out)).toBeUndefined()
    Core.enqueue(state, late, out)
    Core.release(state, z, 3, []) // z goes to the waiter
    Core.release(state, z, 3, []) // and comes back idle
    const closing: Array<Core.Command<string>> = []
    Core.close(state, "closed", closing)
    expect(closing).toEqual([{ _tag: "Destroy", item: z }])
    expect(state.items.size).toBe(2)
    const back: Array<Core.Command<string>> = []
    Core.release(state, x, 4, back)
    Core.release(state, y, 4, back)
    expect(back.filter((c) => c._tag === "Destroy").map((c) => (c as { item: unknown }).item)).toEqual([x, y])
    expect(state.items.size).toBe(0)
    expect(Core.enqueue(state, waiter(5), [])).toBe("closed")
  })

  it("close rejects every waiter", () => {
    const state = new Core.PoolState<string>(config({ max: 1 }))
    const [a, b] = [waiter(), waiter()]
    Core.enqueue(state, a, [])
    Core.enqueue(state, b, [])
    const closing: Array<Core.Command<string>> = []
    Core.close(state, "closed", closing)
    expect(closing).toEqual([
      { _tag: "Reject", waiter: a, error: "closed" },
      { _tag: "Reject", waiter: b, error: "closed" }
    ])
  })
})
