/** Decisions the shell used to make itself: the timeout phase and cause, leak reports, the housekeeper's sleep. */
import { describe, expect, it } from "vitest"
import * as State from "../src/state.js"
import { config } from "./helpers.js"

const add = (state: State.PoolState<string>, value: string, now = 0) => {
  state.creating++
  const item = State.newItem(state, value, undefined, now, 0)
  State.created(state, item, now, [])
  return item
}

describe("timeoutCause: what a timed-out borrower was waiting for", () => {
  it("below max: waiting for a creation, no cause yet", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    add(state, "a")
    expect(State.timeoutCause(state)).toEqual({ phase: "create" })
    expect("cause" in State.timeoutCause(state)).toBe(false)
  })

  it("at max with nothing being created: waiting for a return", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    add(state, "a")
    add(state, "b")
    expect(State.timeoutCause(state)).toEqual({ phase: "wait" })
  })

  it("items being destroyed count toward max", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    add(state, "a")
    state.destroying = 1
    expect(State.timeoutCause(state).phase).toBe("wait")
  })

  it("at max but a creation under way: waiting for the creation", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    add(state, "a")
    state.destroying = 1
    state.creating = 1
    expect(State.timeoutCause(state).phase).toBe("create")
  })

  it("creations failing: phase create with the last failure as cause, even at max", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    state.creating = 1
    State.createFailed(state, "refused", "cause", [])
    expect(State.timeoutCause(state)).toEqual({ phase: "create", cause: "refused" })
    state.destroying = 1
    state.creating = 0
    expect(State.timeoutCause(state)).toEqual({ phase: "create", cause: "refused" })
    // a failure kept as undefined is still reported as the cause
    state.lastError = undefined
    expect("cause" in State.timeoutCause(state)).toBe(true)
  })

  it("at max with items suspended by a failed health check: phase suspended, the check's failure as cause", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const item = add(state, "a")
    State.checkOut(state)
    State.checked(state, item, false, 1, [], true, "NOT_SERVING")
    expect(State.timeoutCause(state)).toEqual({ phase: "suspended", cause: "NOT_SERVING" })
  })

  it("below max with items suspended: waiting for a creation, the check's failure as cause", () => {
    const state = new State.PoolState<string>(config({ max: 2 }))
    const item = add(state, "a")
    State.checkOut(state)
    State.checked(state, item, false, 1, [], true, "NOT_SERVING")
    expect(State.timeoutCause(state)).toEqual({ phase: "create", cause: "NOT_SERVING" })
  })

  it("a creation failure wins over a suspension as cause and phase", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const item = add(state, "a")
    State.checkOut(state)
    State.checked(state, item, false, 1, [], true, "NOT_SERVING")
    state.creating = 1
    State.createFailed(state, "refused", "cause", [])
    state.creating = 0
    expect(State.timeoutCause(state)).toEqual({ phase: "create", cause: "refused" })
  })
})

describe("leaks: items borrowed longer than leakDetectionThreshold", () => {
  it("without a threshold: none", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    add(state, "a")
    State.take(state, 0, [])
    expect(State.leaks(state, 1e12)).toEqual([])
  })

  it("reported at exactly the threshold, once, and only borrowed items", () => {
    const state = new State.PoolState<string>(config({ max: 2, leakDetectionThreshold: 100 }))
    const a = add(state, "a")
    add(state, "b")
    State.take(state, 10, []) // b (lifo)
    const b = [...state.items].find((i) => i.borrowers > 0)!
    expect(State.leaks(state, 109)).toEqual([])
    expect(b.leakReported).toBe(false)
    expect(State.leaks(state, 110)).toEqual([b])
    expect(b.leakReported).toBe(true)
    expect(State.leaks(state, 500)).toEqual([])
    expect(a.leakReported).toBe(false)
  })
})

describe("nextHousekeeping: how long the housekeeper sleeps", () => {
  it("at most 30 s with nothing due", () => {
    const state = new State.PoolState<string>(config({ idleTimeout: Infinity }))
    expect(State.HOUSEKEEPING_MAX_MILLIS).toBe(30_000)
    expect(State.nextHousekeeping(state, 0)).toBe(30_000)
  })

  it("until the next eviction when it is due sooner", () => {
    const state = new State.PoolState<string>(config({ max: 2, idleTimeout: 60_000 }))
    add(state, "a", 0)
    expect(State.nextHousekeeping(state, 55_000)).toBe(5_000)
  })

  it("never less than 1 ms, even when an eviction is overdue", () => {
    const state = new State.PoolState<string>(config({ max: 2, idleTimeout: 60_000 }))
    add(state, "a", 0)
    expect(State.nextHousekeeping(state, 60_000)).toBe(1)
    expect(State.nextHousekeeping(state, 70_000)).toBe(1)
  })

  it("no longer than the idle timeout, the shortest jittered lifetime or the leak threshold", () => {
    const idle = new State.PoolState<string>(config({ idleTimeout: 20_000 }))
    expect(State.nextHousekeeping(idle, 0)).toBe(20_000)
    const lifetime = new State.PoolState<string>(config({ idleTimeout: Infinity, maxLifetime: 10_000, maxLifetimeJitter: 0.2 }))
    expect(State.nextHousekeeping(lifetime, 0)).toBe(8_000)
    const leak = new State.PoolState<string>(config({ idleTimeout: Infinity, leakDetectionThreshold: 5_000 }))
    expect(State.nextHousekeeping(leak, 0)).toBe(5_000)
  })

  it("a zero period still sleeps 1 ms", () => {
    const state = new State.PoolState<string>(config({ idleTimeout: 0 }))
    expect(State.nextHousekeeping(state, 0)).toBe(1)
  })
})

describe("nextEviction counts only what evict can evict", () => {
  it("a suspended item past its idle timeout or its lifetime does not wake the housekeeper every millisecond", () => {
    const state = new State.PoolState<string>(config({ max: 2, idleTimeout: 1_000, maxLifetime: 5_000, maxLifetimeJitter: 0 }))
    const a = add(state, "a", 0)
    add(state, "b", 0)
    State.checkOut(state)
    State.checked(state, a, false, 10, [], true, "NOT_SERVING") // a: suspended, kept, not idle
    const evicted: Array<State.Command<string>> = []
    State.evict(state, 2_000, evicted) // b idles out; a cannot be evicted
    expect([a.destroyed, state.idle]).toEqual([false, []])
    expect(State.nextEviction(state, 2_000)).toBe(5_000) // a's lifetime end, still ahead
    expect(State.nextHousekeeping(state, 2_000)).toBe(1_000)
    expect(State.nextEviction(state, 6_000)).toBe(Infinity) // past it: destroyed when its check passes
  })

  it("an item under a health check is counted by its lifetime only, not its idle end", () => {
    const state = new State.PoolState<string>(config({ max: 2, idleTimeout: 1_000, maxLifetime: 5_000, maxLifetimeJitter: 0 }))
    add(state, "a", 0)
    State.checkOut(state)
    expect(State.nextEviction(state, 2_000)).toBe(5_000)
  })
})

describe("leaks are reported per borrow", () => {
  it("an item reported once, returned and later held too long again is reported again", () => {
    const state = new State.PoolState<string>(config({ max: 1, leakDetectionThreshold: 100 }))
    const a = add(state, "a")
    State.take(state, 0, [])
    expect(State.leaks(state, 100)).toEqual([a])
    State.release(state, a, 150, [])
    State.take(state, 200, [])
    expect(State.leaks(state, 250)).toEqual([])
    expect(State.leaks(state, 300)).toEqual([a])
  })

  it("a shared item stays reported while any borrower still holds it", () => {
    const state = new State.PoolState<string>(config({ max: 1, concurrency: 2, leakDetectionThreshold: 100 }))
    const a = add(state, "a")
    State.take(state, 0, [])
    expect(State.leaks(state, 100)).toEqual([a])
    State.take(state, 150, [])
    State.release(state, a, 160, [])
    expect(State.leaks(state, 400)).toEqual([])
  })
})
