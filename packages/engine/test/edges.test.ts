/** Edge cases the mutation run showed no test pinned down. */
import { describe, expect, it } from "vitest"
import * as State from "../src/state.js"
import * as Options from "../src/options.js"
import { checker, config } from "./helpers.js"

type Cmd = State.Command<string>
const waiter = (): State.Waiter<string> => ({ enqueuedAt: 0, item: undefined, error: undefined, settled: false, notify: undefined })
const add = (state: State.PoolState<string>, value: string, out: Array<Cmd> = []) => {
  state.creating++
  const item = State.newItem(state, value, undefined, 0, 0)
  State.created(state, item, 0, out)
  return item
}

describe("edges", () => {
  it("a duration given as parts may have a zero part", () => {
    const r = Options.checkWith(checker, (c) => c.duration("t", [0, 5], 0))
    expect(r).toEqual(new Options.OptionInvalid("t", "is not a duration: an array")) // the codec's answer, not "negative"
  })

  it("a new pool has no creation failure to report as a timeout's cause", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    expect(state.hasLastError).toBe(false)
    expect(State.timeoutCause(state)).toEqual({ phase: "create" })
  })

  it("without a lifetime, no jitter gives an item an end, even the largest", () => {
    const state = new State.PoolState<string>(config({ maxLifetimeJitter: 1 }))
    expect(State.newItem(state, "a", undefined, 0, 1).expiresAt).toBe(Infinity)
  })

  it("a borrow does not retry the creations of a pool parked on its budget (the Wake command does)", () => {
    let asked = 0
    const budget: State.Budget = {
      tryReserve: () => ++asked === 1,
      free: () => {},
      idled: () => false,
      reclaim: () => {},
      wake: () => {}
    }
    const state = new State.PoolState<string>(config({ min: 2, max: 2 }), budget)
    const out: Array<Cmd> = []
    State.demand(state, out)
    expect(out).toEqual([State.CREATE, State.RECLAIM_STARVED])
    State.created(state, State.newItem(state, "a", undefined, 0, 0), 0, [])
    const asking = asked
    const taken: Array<Cmd> = []
    expect(State.take(state, 0, taken)?.value).toBe("a")
    expect([asked, taken]).toEqual([asking, []])
  })

  it("an expired suspended item destroyed on the way of a shared borrow leaves the idle list as it was", () => {
    const state = new State.PoolState<string>(config({ max: 3, concurrency: 2, maxLifetime: 100, maxLifetimeJitter: 0 }))
    const a = add(state, "a")
    State.checkOut(state)
    State.checked(state, a, false, 1, [], true, "down") // a: suspended, not idle
    const b = add(state, "b")
    const c = add(state, "c")
    Object.assign(b, { expiresAt: 1000 })
    Object.assign(c, { expiresAt: 1000 })
    const out: Array<Cmd> = []
    expect(State.take(state, 100, out)).toBe(b)
    expect(out).toEqual([{ _tag: "Destroy", item: a }])
    expect(state.idle).toEqual([c])
  })

  it("uncovered waiters each get a creation even when the items there are fully borrowed", () => {
    for (const targetUtilization of [1, 0.5]) {
      const state = new State.PoolState<string>(config({ max: 5, targetUtilization }))
      add(state, "a")
      State.take(state, 0, [])
      const out: Array<Cmd> = []
      for (let i = 0; i < 3; i++) state.waiters.push(waiter())
      State.demand(state, out)
      expect(state.creating).toBe(3) // one per waiter (with 0.5, one of them started ahead by the borrow)
    }
  })
})
