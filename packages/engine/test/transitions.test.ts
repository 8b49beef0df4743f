/**
 * Every decision of the state machine, one behaviour per test: which item a borrower gets, when
 * creations start, what a return, an eviction, a health check or a resize does, and the
 * bookkeeping the stats and the shell read.
 */
import { describe, expect, it } from "vitest"
import * as State from "../src/state.js"
import { config } from "./helpers.js"

type Cmd = State.Command<string>
const waiter = (at = 0): State.Waiter<string> => ({ enqueuedAt: at, item: undefined, error: undefined, settled: false, notify: undefined })
const tags = (out: ReadonlyArray<Cmd>) => out.map((c) => c._tag)
const destroyedItems = (out: ReadonlyArray<Cmd>) => out.flatMap((c) => (c._tag === "Destroy" ? [c.item.value] : []))

/** A pool with `values` created at `now` (idle, in that order). */
const poolWith = (input: Parameters<typeof config>[0], values: ReadonlyArray<string>, now = 0, budget?: State.Budget) => {
  const state = new State.PoolState<string>(config(input), budget)
  const items = values.map((v) => add(state, v, now))
  return { state, items }
}
/** One creation that ends with `value` (counted in `creating` first, as the shell does). */
const add = (state: State.PoolState<string>, value: string, now = 0, out: Array<Cmd> = [], jitter = 0) => {
  state.creating++
  const item = State.newItem(state, value, undefined, now, jitter)
  State.created(state, item, now, out)
  return item
}
const borrow = (state: State.PoolState<string>, now = 0, out: Array<Cmd> = []) => State.take(state, now, out)

/** A budget that only counts: it must never be asked to reclaim or wake inside a transition. */
class FakeBudget implements State.Budget {
  reserved = 0
  freed = 0
  idles = 0
  wantsIdle = false
  constructor(public units: number) {}
  tryReserve(): boolean {
    if (this.units === 0) return false
    this.units--
    this.reserved++
    return true
  }
  free(): void {
    this.freed++
  }
  idled(): boolean {
    this.idles++
    return this.wantsIdle
  }
  reclaim(): void {
    throw new Error("reclaim inside a transition")
  }
  wake(): void {
    throw new Error("wake inside a transition")
  }
}

describe("take: which item a borrower gets", () => {
  it("no barging: with borrowers queued, an idle item is not taken past them", () => {
    const { state } = poolWith({ max: 2 }, ["a"])
    state.waiters.push(waiter())
    expect(borrow(state)).toBeUndefined()
    expect(state.idle.length).toBe(1)
  })

  it("a closed pool lends nothing", () => {
    const { state } = poolWith({ max: 2 }, ["a"])
    state.closed = true
    expect(borrow(state)).toBeUndefined()
  })

  it("lifo lends the most recently returned item, fifo the least recently returned", () => {
    const lifo = poolWith({ max: 3, order: "lifo" }, ["a", "b", "c"]).state
    expect(borrow(lifo)?.value).toBe("c")
    const fifo = poolWith({ max: 3, order: "fifo" }, ["a", "b", "c"]).state
    expect(borrow(fifo)?.value).toBe("a")
  })

  it("an idle item is lent before its lifetime ends; at exactly its end it is destroyed instead", () => {
    const { state, items } = poolWith({ max: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a", "b"])
    expect(items.map((i) => i.expiresAt)).toEqual([100, 100])
    const out: Array<Cmd> = []
    expect(borrow(state, 99, out)?.value).toBe("b")
    expect(out).toEqual([])
    expect(borrow(state, 100, out)).toBeUndefined()
    expect(destroyedItems(out)).toEqual(["a"])
    expect([state.items.size, state.destroying]).toEqual([1, 1])
  })

  it("expired idle items met on the way are destroyed and the next lendable one is lent", () => {
    const { state, items } = poolWith({ max: 3, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a"])
    const late = add(state, "late", 50) // expires at 150
    const out: Array<Cmd> = []
    state.idle = [late, items[0]] // the expired one is met first (lifo: from the end)
    expect(borrow(state, 120, out)?.value).toBe("late")
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("lending records the borrow: borrowers, borrows, and when the item went from idle to borrowed", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 3 }, ["a"])
    borrow(state, 5)
    borrow(state, 7)
    expect([items[0].borrowers, state.borrowers, state.borrows, items[0].borrowedAt]).toEqual([2, 2, 2, 5])
  })
})

describe("take with concurrency: the least-loaded shared item", () => {
  it("picks the item with the fewest borrowers", () => {
    const { state, items } = poolWith({ max: 3, concurrency: 4 }, ["a", "b", "c"])
    const [a, b, c] = items
    for (const [item, n] of [[a, 2], [b, 1], [c, 3]] as const) {
      item.borrowers = n
      state.borrowers += n
    }
    state.idle = []
    expect(borrow(state)).toBe(b)
    expect(b.borrowers).toBe(2)
  })

  it("among equally loaded items, the first one made", () => {
    const { state, items } = poolWith({ max: 3, concurrency: 4 }, ["a", "b", "c"])
    expect(borrow(state)).toBe(items[0])
    expect(borrow(state)).toBe(items[1])
    expect(borrow(state)).toBe(items[2])
    expect(borrow(state)).toBe(items[0])
    expect(state.idle).toEqual([])
  })

  it("spreads a burst evenly over the items (no item rides ahead)", () => {
    const { state, items } = poolWith({ max: 3, concurrency: 100 }, ["a", "b", "c"])
    for (let i = 0; i < 60; i++) borrow(state)
    expect(items.map((i) => i.borrowers)).toEqual([20, 20, 20])
  })

  it("an idle item taken leaves the idle list; a shared one already borrowed was not in it", () => {
    const { state, items } = poolWith({ max: 2, concurrency: 2 }, ["a", "b"])
    borrow(state)
    expect(state.idle).toEqual([items[1]])
    borrow(state)
    expect(state.idle).toEqual([])
  })

  it("never past concurrency, and never an invalid, checked, suspended or expired item", () => {
    const { state, items } = poolWith({ max: 5, concurrency: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["full", "invalid", "checking", "suspended"])
    const [full, invalid, checking, suspended] = items
    full.borrowers = 2
    state.borrowers = 2
    invalid.invalid = true
    checking.checking = true
    suspended.suspended = true
    state.idle = []
    expect(borrow(state, 0)).toBeUndefined()
    const fresh = add(state, "fresh", 0)
    expect(borrow(state, 99)).toBe(fresh)
    expect(borrow(state, 99)).toBe(fresh)
    expect(borrow(state, 99)).toBeUndefined()
  })

  it("at exactly the end of its lifetime an unborrowed item is destroyed, a borrowed one is left to its borrowers", () => {
    const { state, items } = poolWith({ max: 3, concurrency: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["idle", "busy", "checking"])
    const [idle, busy, checking] = items
    borrow(state, 0) // idle
    borrow(state, 0) // busy... the least loaded: busy has 0
    expect([idle.borrowers, busy.borrowers]).toEqual([1, 1])
    State.release(state, idle, 10, [])
    checking.checking = true
    const out: Array<Cmd> = []
    expect(borrow(state, 100, out)).toBeUndefined()
    expect(destroyedItems(out)).toEqual(["idle"])
    expect([busy.destroyed, checking.destroyed, state.idle]).toEqual([false, false, [checking]])
  })

  it("one millisecond before the end of its lifetime an item is still lent", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a"])
    const out: Array<Cmd> = []
    expect(borrow(state, 99, out)).toBe(items[0])
    expect(out).toEqual([])
  })
})

describe("demand: how many creations start", () => {
  it("one per uncovered waiter, rounded up over concurrency", () => {
    const state = new State.PoolState<string>(config({ max: 10, concurrency: 3 }))
    for (let i = 0; i < 4; i++) state.waiters.push(waiter())
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out.length).toBe(2)
    expect(state.creating).toBe(2)
    State.demand(state, out) // covered now: nothing more
    expect(out.length).toBe(2)
  })

  it("up to min, counting items and creations", () => {
    const { state } = poolWith({ min: 3, max: 5 }, ["a"])
    expect(state.creating).toBe(2) // created "a" asked for the two others
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out).toEqual([])
  })

  it("never past max, counting items being destroyed", () => {
    const state = new State.PoolState<string>(config({ max: 3 }))
    state.destroying = 1
    for (let i = 0; i < 5; i++) state.waiters.push(waiter())
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out.length).toBe(2)
  })

  it("a closed pool creates nothing", () => {
    const state = new State.PoolState<string>(config({ min: 2, max: 3 }))
    state.closed = true
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out).toEqual([])
  })

  it("targetUtilization: one creation ahead once borrowed share passes the target, not at it", () => {
    const { state } = poolWith({ max: 4, concurrency: 2, targetUtilization: 0.5 }, ["a", "b"])
    const out: Array<Cmd> = []
    borrow(state, 0, out) // 1 of 4 slots
    borrow(state, 0, out) // 2 of 4: at the target
    expect(out).toEqual([])
    borrow(state, 0, out) // 3 of 4: past it
    expect(tags(out)).toEqual(["Create"])
    expect(state.creating).toBe(1)
  })

  it("targetUtilization counts waiters and the items being created", () => {
    const state = new State.PoolState<string>(config({ max: 4, concurrency: 2, targetUtilization: 0.5 }))
    state.creating = 1
    state.waiters.push(waiter()) // 1 of 2 slots: at the target
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out).toEqual([])
    state.waiters.push(waiter()) // 2 of 2, covered by the creation, but past the target
    State.demand(state, out)
    expect(out.length).toBe(1)
  })

  it("targetUtilization adds one ahead only when nothing else is wanted; uncovered waiters get one each", () => {
    const state = new State.PoolState<string>(config({ max: 5, targetUtilization: 0.5 }))
    for (let i = 0; i < 3; i++) state.waiters.push(waiter())
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out.length).toBe(3)
  })

  it("without targetUtilization (1), a fully borrowed pool creates nothing ahead", () => {
    const { state } = poolWith({ max: 4 }, ["a"])
    const out: Array<Cmd> = []
    borrow(state, 0, out)
    State.demand(state, out)
    expect(out).toEqual([])
  })

  it("targetUtilization ahead is capped by max", () => {
    const { state } = poolWith({ max: 1, targetUtilization: 0.1 }, ["a"])
    const out: Array<Cmd> = []
    borrow(state, 0, out)
    expect(out).toEqual([])
  })

  it("a shared budget that refuses a unit parks the pool; units it grants are used", () => {
    const budget = new FakeBudget(1)
    const state = new State.PoolState<string>(config({ max: 5 }), budget)
    for (let i = 0; i < 3; i++) state.waiters.push(waiter())
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(tags(out)).toEqual(["Create", "Reclaim"])
    expect([state.creating, state.starved, budget.reserved]).toEqual([1, true, 1])
  })

  it("a budget is asked only for creations that are wanted", () => {
    const budget = new FakeBudget(0)
    const state = new State.PoolState<string>(config({ max: 5 }), budget)
    State.demand(state, [])
    expect(state.starved).toBe(false)
  })
})

describe("enqueue, cancel, expire", () => {
  it("a closed pool queues nobody", () => {
    const state = new State.PoolState<string>(config())
    state.closed = true
    expect(State.enqueue(state, waiter(), [])).toBe("closed")
    expect(state.waiters).toEqual([])
  })

  it("maxWaiters counts the waiters no creation under way will serve", () => {
    const state = new State.PoolState<string>(config({ max: 1, maxWaiters: 1 }))
    const out: Array<Cmd> = []
    expect(State.enqueue(state, waiter(), out)).toBe("wait") // covered by its creation
    expect(State.enqueue(state, waiter(), out)).toBe("wait") // the one allowed
    expect(State.enqueue(state, waiter(), out)).toBe("full")
    expect(state.waiters.length).toBe(2)
    expect(out.length).toBe(1)
  })

  it("maxWaiters 0: only borrowers a creation will serve may wait", () => {
    const state = new State.PoolState<string>(config({ max: 1, maxWaiters: 0 }))
    expect(State.enqueue(state, waiter(), [])).toBe("wait")
    expect(State.enqueue(state, waiter(), [])).toBe("full")
  })

  it("uncoveredWaiters: waiters beyond creations and destructions under way, times concurrency", () => {
    const state = new State.PoolState<string>(config({ max: 4, concurrency: 2 }))
    for (let i = 0; i < 7; i++) state.waiters.push(waiter())
    state.creating = 1
    state.destroying = 1
    expect(State.uncoveredWaiters(state)).toBe(3)
    state.creating = 3
    expect(State.uncoveredWaiters(state)).toBe(0)
  })

  it("cancel of a queued waiter forgets it and settles it", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const [a, b] = [waiter(), waiter()]
    State.enqueue(state, a, [])
    State.enqueue(state, b, [])
    State.cancel(state, a, 0, [])
    expect(state.waiters).toEqual([b])
    expect(a.settled).toBe(true)
    State.cancel(state, a, 0, []) // twice: nothing more
    expect(state.waiters).toEqual([b])
  })

  it("cancel of a waiter already handed an item returns the item (to the next waiter)", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const [a, b] = [waiter(), waiter()]
    State.enqueue(state, a, [])
    State.enqueue(state, b, [])
    const item = add(state, "x")
    expect(a.item).toBe(item)
    const out: Array<Cmd> = []
    State.cancel(state, a, 1, out)
    expect(a.item).toBeUndefined()
    expect(out).toEqual([{ _tag: "Hand", waiter: b, item }])
    expect(item.uses).toBe(1)
  })

  it("expire: a waiter times out at exactly enqueuedAt + acquireTimeout, with one error for all", () => {
    const state = new State.PoolState<string>(config({ max: 1, acquireTimeout: 100 }))
    const ws = [waiter(0), waiter(10), waiter(11)]
    for (const w of ws) State.enqueue(state, w, [])
    let made = 0
    const out: Array<Cmd> = []
    State.expire(state, 110, () => `timeout ${++made}`, out)
    expect(made).toBe(1)
    expect(out).toEqual([
      { _tag: "Reject", waiter: ws[0], error: "timeout 1" },
      { _tag: "Reject", waiter: ws[1], error: "timeout 1" }
    ])
    expect(ws.map((w) => [w.settled, w.error])).toEqual([[true, "timeout 1"], [true, "timeout 1"], [false, undefined]])
    expect(state.timeouts).toBe(2)
    expect(State.nextExpiry(state)).toBe(111)
  })

  it("expire with nobody due makes no error", () => {
    const state = new State.PoolState<string>(config({ acquireTimeout: 100 }))
    State.expire(state, 1000, () => {
      throw new Error("not called")
    }, [])
    expect(State.nextExpiry(state)).toBe(Infinity)
  })
})

describe("release: where a returned item goes", () => {
  it("a return counts a use and frees the borrow", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    borrow(state)
    State.release(state, items[0], 5, [])
    expect([items[0].borrowers, state.borrowers, items[0].uses, items[0].idleSince, state.idle]).toEqual([0, 0, 1, 5, [items[0]]])
  })

  it("a return marked unused frees the borrow without counting a use: not retired at maxUses", () => {
    const { state, items } = poolWith({ max: 1, maxUses: 1 }, ["a"])
    borrow(state)
    const out: Array<Cmd> = []
    State.release(state, items[0], 5, out, false)
    expect([items[0].borrowers, state.borrowers, items[0].uses, items[0].invalid, state.idle]).toEqual([0, 0, 0, false, [items[0]]])
    expect(out).toEqual([])
    borrow(state)
    State.release(state, items[0], 6, out)
    expect(items[0].uses).toBe(1)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("an item already destroyed (force-destroyed) is not counted back", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    borrow(state)
    State.forceDestroy(state, [])
    State.release(state, items[0], 5, [])
    expect([state.borrowers, items[0].uses, state.destroying]).toEqual([0, 0, 1])
  })

  it("used up at exactly maxUses: destroyed, and its replacement started for a waiter", () => {
    const { state, items } = poolWith({ max: 1, maxUses: 2 }, ["a"])
    borrow(state)
    State.release(state, items[0], 1, [])
    expect(items[0].destroyed).toBe(false)
    borrow(state)
    State.enqueue(state, waiter(), [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 2, out)
    expect(out).toEqual([{ _tag: "Destroy", item: items[0] }])
    expect(items[0].invalid).toBe(true)
    State.destroyed(state, out)
    expect(tags(out)).toEqual(["Destroy", "Create"])
  })

  it("returned at exactly the end of its lifetime: destroyed; a moment before: kept", () => {
    const { state, items } = poolWith({ max: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a", "b"])
    const [a, b] = items
    borrow(state, 0)
    borrow(state, 0)
    const out: Array<Cmd> = []
    State.release(state, a, 99, out)
    State.release(state, b, 100, out)
    expect(destroyedItems(out)).toEqual(["b"])
    expect(state.idle).toEqual([a])
  })

  it("over max after a resize: a returned item is destroyed, not kept", () => {
    const { state, items } = poolWith({ max: 2 }, ["a", "b"])
    borrow(state)
    borrow(state)
    State.resize(state, config({ max: 1 }), [])
    const out: Array<Cmd> = []
    State.release(state, items[1], 1, out)
    expect(destroyedItems(out)).toEqual(["b"])
    State.release(state, items[0], 1, out) // 1 item + 1 destroying > 1
    expect(destroyedItems(out)).toEqual(["b", "a"])
  })

  it("at max exactly, counting destructions, a returned item is kept", () => {
    const { state, items } = poolWith({ max: 2 }, ["a"])
    state.destroying = 1
    borrow(state)
    const out: Array<Cmd> = []
    State.release(state, items[0], 1, out)
    expect(out).toEqual([])
    expect(state.idle).toEqual([items[0]])
  })

  it("a retired shared item is destroyed when its last borrower returns it, not before", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2 }, ["a"])
    borrow(state)
    borrow(state)
    State.invalidate(state, items[0], [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 1, out)
    expect(out).toEqual([])
    State.release(state, items[0], 2, out)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("a retired item under a health check is left to the check", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2 }, ["a"])
    borrow(state)
    State.checkOut(state)
    State.invalidate(state, items[0], [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 1, out)
    expect(out).toEqual([])
    expect(items[0].destroyed).toBe(false)
  })

  it("a closed pool destroys what comes back", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    borrow(state)
    State.close(state, "closed", [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 1, out)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("an item under a health check is not offered when returned; its idle age starts when its last borrower is done", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2 }, ["a"])
    borrow(state, 0)
    borrow(state, 0)
    State.checkOut(state)
    State.enqueue(state, waiter(), [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 3, out)
    expect(items[0].idleSince).toBe(0)
    State.release(state, items[0], 4, out)
    expect([out, items[0].idleSince, state.idle, state.waiters.length]).toEqual([[], 4, [], 1])
  })

  it("a returned item serves waiters up to its concurrency, oldest first, then goes idle when unborrowed", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2 }, ["a"])
    borrow(state)
    borrow(state)
    const ws = [waiter(1), waiter(2), waiter(3)]
    for (const w of ws) State.enqueue(state, w, [])
    const out: Array<Cmd> = []
    State.release(state, items[0], 5, out)
    expect(out).toEqual([{ _tag: "Hand", waiter: ws[0], item: items[0] }])
    expect([ws[0].settled, ws[0].item, ws[1].settled]).toEqual([true, items[0], false])
    expect(state.waiters).toEqual([ws[1], ws[2]])
    expect(items[0].borrowers).toBe(2)
  })

  it("maxIdle: an item returned when maxIdle items are idle already is destroyed", () => {
    const { state, items } = poolWith({ max: 3, maxIdle: 1 }, ["a", "b"])
    // "b" was destroyed when created: "a" was idle already
    expect(items[1].destroyed).toBe(true)
    borrow(state)
    add(state, "c")
    const out: Array<Cmd> = []
    State.release(state, items[0], 1, out)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("maxIdle 2 keeps two idle items", () => {
    const { state } = poolWith({ max: 3, maxIdle: 2 }, ["a", "b", "c"])
    expect(state.idle.map((i) => i.value)).toEqual(["a", "b"])
  })

  it("an item going idle tells the shared budget", () => {
    const budget = new FakeBudget(5)
    const { state, items } = poolWith({ max: 2 }, ["a"], 0, budget)
    expect(budget.idles).toBe(1)
    borrow(state)
    State.release(state, items[0], 1, [])
    expect(budget.idles).toBe(2)
  })
})

describe("invalidate", () => {
  it("an idle item is destroyed at once and min is topped up (after the destruction when at max)", () => {
    const { state, items } = poolWith({ min: 1, max: 2 }, ["a"])
    const out: Array<Cmd> = []
    State.invalidate(state, items[0], out)
    expect(tags(out)).toEqual(["Destroy", "Create"])
    expect([state.idle, state.invalidated]).toEqual([[], 1])
    const full = poolWith({ min: 1, max: 1 }, ["a"])
    const later: Array<Cmd> = []
    State.invalidate(full.state, full.items[0], later)
    expect(tags(later)).toEqual(["Destroy"])
    State.destroyed(full.state, later)
    expect(tags(later)).toEqual(["Destroy", "Create"])
  })

  it("an idle item is destroyed and a waiter gets a creation", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    const out: Array<Cmd> = []
    items[0].idleSince = 0
    State.invalidate(state, items[0], out)
    expect(tags(out)).toEqual(["Destroy"])
  })

  it("a borrowed or checked item is only marked; invalidating twice counts once", () => {
    const { state, items } = poolWith({ max: 2 }, ["a", "b"])
    borrow(state)
    State.checkOut(state)
    const out: Array<Cmd> = []
    State.invalidate(state, items[1], out)
    State.invalidate(state, items[1], out)
    State.invalidate(state, items[0], out)
    expect(out).toEqual([])
    expect([items[0].invalid, items[1].invalid, state.invalidated]).toEqual([true, true, 2])
  })

  it("a destroyed item is not counted", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    State.evictIdle(state, [])
    State.invalidate(state, items[0], [])
    expect([state.invalidated, items[0].invalid]).toEqual([0, false])
  })
})

describe("creation", () => {
  it("newItem: increasing ids, lifetime shortened by up to maxLifetimeJitter", () => {
    const state = new State.PoolState<string>(config({ maxLifetime: 1000, maxLifetimeJitter: 0.2 }))
    const a = State.newItem(state, "a", "h", 10, 0)
    const b = State.newItem(state, "b", "h", 10, 0.5)
    const c = State.newItem(state, "c", "h", 10, 1)
    expect([a.id, b.id, c.id, state.nextId]).toEqual([0, 1, 2, 3])
    expect([a.expiresAt, b.expiresAt, c.expiresAt]).toEqual([1010, 910, 810])
    expect(a).toMatchObject({ value: "a", handle: "h", createdAt: 10, idleSince: 10, borrowedAt: 0, borrowers: 0, uses: 0, invalid: false, destroyed: false, checking: false, suspended: false, site: undefined, leakReported: false })
    const forever = new State.PoolState<string>(config())
    expect(State.newItem(forever, "x", undefined, 10, 1).expiresAt).toBe(Infinity)
  })

  it("created: counted, the last error cleared, offered to the oldest waiter", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    const w = waiter()
    State.enqueue(state, w, [])
    State.createFailed(state, "boom", "boom", [])
    const out: Array<Cmd> = []
    const item = add(state, "a", 3, out)
    // (the failed creation is still retrying: one creation under way)
    expect([state.created, state.creating, state.hasLastError, state.lastError]).toEqual([1, 1, false, undefined])
    expect(out).toEqual([{ _tag: "Hand", waiter: w, item }])
  })

  it("created in a closed pool: destroyed at once", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    state.closed = true
    const out: Array<Cmd> = []
    const item = add(state, "a", 0, out)
    expect(out).toEqual([{ _tag: "Destroy", item }])
  })

  it("createFailed: counted, kept as lastError; retried while a waiter it was for still waits", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    State.enqueue(state, waiter(), [])
    expect(State.createFailed(state, "e1", "c1", [])).toBe(true)
    expect([state.failures, state.lastError, state.hasLastError, state.creating]).toEqual([1, "e1", true, 1])
  })

  it("createFailed: not retried when another creation covers every waiter", () => {
    const state = new State.PoolState<string>(config({ max: 2, concurrency: 2 }))
    for (let i = 0; i < 2; i++) state.waiters.push(waiter())
    state.creating = 2
    expect(State.createFailed(state, "e", "c", [])).toBe(false)
    expect(state.creating).toBe(1)
  })

  it("createFailed: retried while a waiter is beyond what the other creations serve", () => {
    const state = new State.PoolState<string>(config({ max: 3, concurrency: 2 }))
    for (let i = 0; i < 3; i++) state.waiters.push(waiter())
    state.creating = 2
    expect(State.createFailed(state, "e", "c", [])).toBe(true)
  })

  it("createFailed: retried to reach min, not once min is covered", () => {
    const state = new State.PoolState<string>(config({ min: 2, max: 3 }))
    expect(state.creating).toBe(0)
    state.creating = 2
    expect(State.createFailed(state, "e", "c", [])).toBe(true) // 0 items + 1 other < 2
    add(state, "a")
    expect(State.createFailed(state, "e", "c", [])).toBe(false) // 1 item + 0 others < 2? yes: retried
  })

  it("createFailed: min counted with items and other creations", () => {
    const { state } = poolWith({ min: 2, max: 3 }, ["a"])
    // "a" asked for one more to reach min
    expect(state.creating).toBe(1)
    expect(State.createFailed(state, "e", "c", [])).toBe(true)
    state.creating = 2
    expect(State.createFailed(state, "e", "c", [])).toBe(false) // 1 item + 1 other = min
  })

  it("createFailed in a closed pool: dropped, its budget unit freed", () => {
    const budget = new FakeBudget(5)
    const state = new State.PoolState<string>(config({ max: 2 }), budget)
    State.enqueue(state, waiter(), [])
    state.closed = true
    expect(State.createFailed(state, "e", "c", [])).toBe(false)
    expect([state.creating, budget.freed]).toEqual([0, 1])
  })

  it("createGaveUp: the oldest waiter gets the error, the others wait on (and get a creation)", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const [a, b] = [waiter(), waiter()]
    State.enqueue(state, a, [])
    State.enqueue(state, b, [])
    const out: Array<Cmd> = []
    State.createGaveUp(state, "gave up", out)
    expect(out).toEqual([{ _tag: "Reject", waiter: a, error: "gave up" }, State.CREATE])
    expect([a.settled, a.error, b.settled, state.waiters, state.creating]).toEqual([true, "gave up", false, [b], 1])
  })

  it("createGaveUp with nobody waiting just ends the creation", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    state.creating = 1
    const out: Array<Cmd> = []
    State.createGaveUp(state, "gave up", out)
    expect([out, state.creating]).toEqual([[], 0])
  })

  it("creationAborted ends the creation and frees its budget unit", () => {
    const budget = new FakeBudget(5)
    const state = new State.PoolState<string>(config({ max: 1 }), budget)
    state.creating = 1
    const out: Array<Cmd> = []
    State.creationAborted(state, out)
    expect([state.creating, budget.freed, tags(out)]).toEqual([0, 1, ["Wake"]])
  })
})

describe("destruction", () => {
  it("destroyed: the slot frees up, counted, the budget unit given back, demand met", () => {
    const budget = new FakeBudget(5)
    const { state, items } = poolWith({ max: 1 }, ["a"], 0, budget)
    borrow(state)
    State.enqueue(state, waiter(), [])
    State.invalidate(state, items[0], [])
    State.release(state, items[0], 1, [])
    expect(state.destroying).toBe(1)
    const out: Array<Cmd> = []
    State.destroyed(state, out)
    expect([state.destroying, state.destroyed, budget.freed, tags(out)]).toEqual([0, 1, 1, ["Wake", "Create"]])
  })

  it("destroying a suspended item stops counting it as suspended", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    State.checkOut(state)
    State.checked(state, items[0], false, 1, [], true, "down")
    expect(state.suspended).toBe(1)
    State.close(state, "closed", [])
    State.forceDestroy(state, [])
    expect([items[0].suspended, state.suspended]).toEqual([false, 0])
  })
})

describe("evict: idle timeout and lifetime", () => {
  it("an item idle for exactly idleTimeout goes; one a moment younger stays", () => {
    const { state, items } = poolWith({ max: 2, idleTimeout: 100 }, ["a"])
    add(state, "b", 1)
    const out: Array<Cmd> = []
    State.evict(state, 100, out)
    expect(destroyedItems(out)).toEqual(["a"])
    expect(state.idle.map((i) => i.value)).toEqual(["b"])
    expect(items[0].destroyed).toBe(true)
  })

  it("keeps min items, and they are the most recently used ones", () => {
    const { state, items } = poolWith({ min: 1, max: 3, idleTimeout: 100 }, ["a", "b", "c"])
    const [a, b, c] = items
    // reuse order and idle age differ: b went idle last
    a.idleSince = 10
    b.idleSince = 30
    c.idleSince = 20
    const out: Array<Cmd> = []
    State.evict(state, 1000, out)
    expect(destroyedItems(out)).toEqual(["a", "c"])
    expect(state.idle).toEqual([b])
  })

  it("keeps min when min is 2 of 3", () => {
    const { state, items } = poolWith({ min: 2, max: 3, idleTimeout: 100 }, ["a", "b", "c"])
    items[0].idleSince = 50
    items[1].idleSince = 10
    items[2].idleSince = 40
    const out: Array<Cmd> = []
    State.evict(state, 1000, out)
    expect(destroyedItems(out)).toEqual(["b"])
  })

  it("every idle item past its time goes, however many (the list is not walked while it shrinks)", () => {
    const { state } = poolWith({ max: 3, idleTimeout: 100 }, ["a", "b", "c"])
    const out: Array<Cmd> = []
    State.evict(state, 100, out)
    expect(destroyedItems(out)).toEqual(["a", "b", "c"])
    expect(state.idle).toEqual([])
  })

  it("an item at exactly the end of its lifetime goes, even below min, and min is topped up", () => {
    const { state } = poolWith({ min: 1, max: 2, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a"])
    const out: Array<Cmd> = []
    State.evict(state, 99, out)
    expect(out).toEqual([])
    State.evict(state, 100, out)
    expect(tags(out)).toEqual(["Destroy", "Create"])
  })

  it("a closed pool evicts nothing", () => {
    const { state } = poolWith({ max: 1, idleTimeout: 100 }, ["a"])
    state.closed = true
    const out: Array<Cmd> = []
    State.evict(state, 1000, out)
    expect(out).toEqual([])
  })
})

describe("nextEviction: when the housekeeper must wake up next", () => {
  it("nothing to evict: never", () => {
    const { state } = poolWith({ max: 1, idleTimeout: Infinity }, ["a"])
    expect(State.nextEviction(state, 0)).toBe(Infinity)
    expect(State.nextEviction(new State.PoolState<string>(config()), 0)).toBe(Infinity)
  })

  it("the earliest idle end among idle items", () => {
    const { state, items } = poolWith({ max: 3, idleTimeout: 100 }, ["a", "b", "c"])
    items[0].idleSince = 30
    items[1].idleSince = 10
    items[2].idleSince = 20
    expect(State.nextEviction(state, 0)).toBe(110)
  })

  it("a borrowed item does not idle out", () => {
    const { state, items } = poolWith({ max: 2, idleTimeout: 100 }, ["a", "b"])
    items[1].idleSince = 50
    borrow(state) // b (lifo)
    expect(State.nextEviction(state, 0)).toBe(100)
  })

  it("at min, nothing idles out", () => {
    const { state } = poolWith({ min: 1, max: 2, idleTimeout: 100 }, ["a"])
    expect(State.nextEviction(state, 0)).toBe(Infinity)
    add(state, "b", 10)
    expect(State.nextEviction(state, 0)).toBe(100)
  })

  it("the earliest lifetime end, idle or not, if earlier than every idle end", () => {
    const { state, items } = poolWith({ max: 3, idleTimeout: 1000, maxLifetime: 500, maxLifetimeJitter: 0 }, ["a", "b"])
    add(state, "c", 0, [], 0) // expires at 500 too
    items[0].idleSince = 0
    // make b expire earliest and borrowed
    Object.assign(items[1], { expiresAt: 300 })
    state.idle = state.idle.filter((i) => i !== items[1])
    items[1].borrowers = 1
    state.borrowers = 1
    expect(State.nextEviction(state, 0)).toBe(300)
    Object.assign(items[0], { expiresAt: 200 })
    expect(State.nextEviction(state, 0)).toBe(200)
  })

  it("a borrowed item past its lifetime is not counted (it is destroyed on return); an idle one is", () => {
    const { state, items } = poolWith({ max: 2, idleTimeout: Infinity, maxLifetime: 100, maxLifetimeJitter: 0 }, ["a"])
    borrow(state, 0)
    expect(State.nextEviction(state, 50)).toBe(100)
    expect(State.nextEviction(state, 100)).toBe(Infinity)
    expect(State.nextEviction(state, 150)).toBe(Infinity)
    State.release(state, items[0], 60, [])
    expect(State.nextEviction(state, 150)).toBe(100)
  })
})

describe("shared budget: reclaiming an idle item", () => {
  it("oldestIdle: the idle item idle the longest; the first of equals", () => {
    const { state, items } = poolWith({ max: 3 }, ["a", "b", "c"])
    items[0].idleSince = 20
    items[1].idleSince = 10
    items[2].idleSince = 10
    expect(State.oldestIdle(state)).toBe(items[1])
    expect(State.oldestIdle(new State.PoolState<string>(config()))).toBeUndefined()
  })

  it("reclaim destroys the oldest idle item of a pool above min", () => {
    const { state, items } = poolWith({ min: 1, max: 3 }, ["a", "b"])
    items[0].idleSince = 5
    items[1].idleSince = 1
    const out: Array<Cmd> = []
    expect(State.reclaim(state, out)).toBe(true)
    expect(destroyedItems(out)).toEqual(["b"])
    expect(state.idle).toEqual([items[0]])
  })

  it("reclaim takes nothing from a pool at min, closed, or without idle items", () => {
    const atMin = poolWith({ min: 1, max: 3 }, ["a"]).state
    expect(State.reclaim(atMin, [])).toBe(false)
    const closed = poolWith({ max: 3 }, ["a"]).state
    closed.closed = true
    expect(State.reclaim(closed, [])).toBe(false)
    const busy = poolWith({ max: 3 }, ["a"]).state
    borrow(busy)
    const out: Array<Cmd> = []
    expect(State.reclaim(busy, out)).toBe(false)
    expect(out).toEqual([])
  })
})

describe("evictIdle, unused", () => {
  it("evictIdle destroys every idle item, then tops up min", () => {
    const { state } = poolWith({ min: 2, max: 3 }, ["a", "b"])
    const out: Array<Cmd> = []
    State.evictIdle(state, out)
    expect(tags(out)).toEqual(["Destroy", "Destroy"])
    expect(state.idle).toEqual([])
    State.destroyed(state, out)
    expect(tags(out)).toEqual(["Destroy", "Destroy", "Create"])
  })

  it("unused only with no item, creation, destruction or waiter", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    expect(State.unused(state)).toBe(true)
    state.creating = 1
    expect(State.unused(state)).toBe(false)
    state.creating = 0
    state.destroying = 1
    expect(State.unused(state)).toBe(false)
    state.destroying = 0
    state.waiters.push(waiter())
    expect(State.unused(state)).toBe(false)
    state.waiters = []
    add(state, "a")
    expect(State.unused(state)).toBe(false)
  })
})

describe("health checks", () => {
  it("checkOut takes every idle item, none already checked or invalid", () => {
    const { state, items } = poolWith({ max: 3 }, ["a", "b", "c"])
    State.invalidate(state, items[2], [])
    const first = State.checkOut(state)
    expect(first).toEqual([items[0], items[1]])
    expect(state.idle).toEqual([])
    expect(State.checkOut(state)).toEqual([])
  })

  it("checkOut: an exclusive item being borrowed is not checked; a shared one is, and stays with its borrowers", () => {
    const exclusive = poolWith({ max: 1 }, ["a"]).state
    borrow(exclusive)
    expect(State.checkOut(exclusive)).toEqual([])
    const { state, items } = poolWith({ max: 2, concurrency: 2 }, ["a", "b"])
    borrow(state) // a
    expect(State.checkOut(state)).toEqual(items)
    expect([items[0].borrowers, state.idle]).toEqual([1, []])
  })

  it("checkOut in a closed pool takes nothing", () => {
    const { state } = poolWith({ max: 1 }, ["a"])
    state.closed = true
    expect(State.checkOut(state)).toEqual([])
  })

  it("a passed check puts the item back with its idle age, to a waiter first", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"], 7)
    State.checkOut(state)
    const out: Array<Cmd> = []
    State.checked(state, items[0], true, 50, out)
    expect([items[0].checking, items[0].idleSince, state.idle]).toEqual([false, 7, [items[0]]])
    State.checkOut(state)
    const w = waiter()
    State.enqueue(state, w, [])
    State.checked(state, items[0], true, 60, out)
    expect(out).toEqual([{ _tag: "Hand", waiter: w, item: items[0] }])
  })

  it("a failed check destroys an idle item, counts it invalidated, and starts its replacement for min", () => {
    const { state, items } = poolWith({ min: 1, max: 1 }, ["a"])
    State.checkOut(state)
    const out: Array<Cmd> = []
    State.checked(state, items[0], false, 1, out)
    expect([items[0].invalid, state.invalidated, tags(out)]).toEqual([true, 1, ["Destroy"]])
    State.destroyed(state, out)
    expect(tags(out)).toEqual(["Destroy", "Create"])
  })

  it("a failed check of an item already invalid counts nothing more", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    State.checkOut(state)
    State.invalidate(state, items[0], [])
    expect(state.invalidated).toBe(1)
    const out: Array<Cmd> = []
    State.checked(state, items[0], false, 1, out)
    expect([state.invalidated, tags(out)]).toEqual([1, ["Destroy"]])
  })

  it("a failed check of a shared item still borrowed marks it; it is destroyed when returned", () => {
    const { state, items } = poolWith({ max: 1, concurrency: 2 }, ["a"])
    borrow(state)
    State.checkOut(state)
    const out: Array<Cmd> = []
    State.checked(state, items[0], false, 1, out)
    expect([out, items[0].invalid]).toEqual([[], true])
    State.release(state, items[0], 2, out)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("a check that ends after close destroys the item, passed or not", () => {
    const { state, items } = poolWith({ max: 2 }, ["a", "b"])
    State.checkOut(state)
    State.close(state, "closed", [])
    const out: Array<Cmd> = []
    State.checked(state, items[0], true, 1, out)
    State.checked(state, items[1], false, 1, out, true, "down")
    expect(destroyedItems(out)).toEqual(["a", "b"])
    expect([items[1].suspended, state.suspended]).toEqual([false, 0])
  })

  it("a check of an item destroyed meanwhile only ends the check", () => {
    const { state, items } = poolWith({ max: 1 }, ["a"])
    State.checkOut(state)
    State.close(state, "closed", [])
    State.forceDestroy(state, [])
    const out: Array<Cmd> = []
    State.checked(state, items[0], false, 1, out)
    expect([out, items[0].checking, state.invalidated]).toEqual([[], false, 0])
  })

  it("suspend: a failed item is kept and counted once while it keeps failing; an invalid one is destroyed instead", () => {
    const { state, items } = poolWith({ max: 2 }, ["a", "b"])
    State.checkOut(state)
    State.checked(state, items[0], false, 1, [], true, "e1")
    State.checkOut(state)
    State.checked(state, items[0], false, 2, [], true, "e2")
    expect([state.suspended, state.lastCheckError, items[0].destroyed]).toEqual([1, "e2", false])
    State.invalidate(state, items[1], [])
    const out: Array<Cmd> = []
    State.checked(state, items[1], false, 3, out, true, "e3")
    expect([destroyedItems(out), items[1].suspended, state.suspended]).toEqual([["b"], false, 1])
  })
})

describe("resize", () => {
  it("surplus idle items go, oldest in reuse order first, counting items being destroyed", () => {
    const { state, items } = poolWith({ max: 4 }, ["a", "b", "c", "d"])
    state.destroying = 1
    const out: Array<Cmd> = []
    State.resize(state, config({ max: 2 }), out)
    expect(destroyedItems(out)).toEqual(["a", "b", "c"])
    expect(state.idle).toEqual([items[3]])
    expect(state.config.max).toBe(2)
  })

  it("borrowed items are not taken; they go when returned", () => {
    const { state } = poolWith({ max: 3 }, ["a", "b", "c"])
    borrow(state)
    borrow(state)
    const out: Array<Cmd> = []
    State.resize(state, config({ max: 1 }), out)
    expect(destroyedItems(out)).toEqual(["a"])
  })

  it("a larger min starts creations", () => {
    const { state } = poolWith({ max: 3 }, ["a"])
    const out: Array<Cmd> = []
    State.resize(state, config({ min: 3, max: 3 }), out)
    expect(tags(out)).toEqual(["Create", "Create"])
  })

  it("no surplus: nothing destroyed", () => {
    const { state } = poolWith({ max: 3 }, ["a", "b"])
    const out: Array<Cmd> = []
    State.resize(state, config({ max: 2 }), out)
    expect(out).toEqual([])
  })
})

describe("close and forceDestroy", () => {
  it("close once: waiters rejected and settled, idle items destroyed; a second close does nothing", () => {
    const { state } = poolWith({ max: 2 }, ["a"])
    borrow(state)
    const w = waiter()
    State.enqueue(state, w, [])
    add(state, "b") // handed to w
    State.enqueue(state, waiter(), [])
    const late = state.waiters[0]
    State.release(state, state.items.values().next().value!, 1, []) // a to the late waiter
    State.enqueue(state, waiter(), [])
    const last = state.waiters[0]
    const out: Array<Cmd> = []
    State.close(state, "closed", out)
    expect(out).toEqual([{ _tag: "Reject", waiter: last, error: "closed" }])
    expect([last.settled, last.error, late.settled]).toEqual([true, "closed", true])
    State.close(state, "again", out)
    expect(out.length).toBe(1)
  })

  it("forceDestroy destroys every item and forgets their borrows", () => {
    const { state, items } = poolWith({ max: 3, concurrency: 2 }, ["a", "b", "c"])
    borrow(state)
    borrow(state)
    borrow(state)
    expect(state.borrowers).toBe(3)
    items[2].checking = true
    const out: Array<Cmd> = []
    State.forceDestroy(state, out)
    expect(destroyedItems(out)).toEqual(["a", "b", "c"])
    expect([state.borrowers, items.map((i) => i.borrowers), state.items.size, state.destroying]).toEqual([0, [0, 0, 0], 0, 3])
  })
})
