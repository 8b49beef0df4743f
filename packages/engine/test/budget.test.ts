/**
 * A budget shared by several pools (KeyedPool's maxTotal / maxIdleTotal): inside a transition
 * the state machine only keeps count with it; what involves another pool — reclaiming its idle
 * item, waking pools parked on the budget — comes back as a command for the shell to carry out
 * after the transition.
 */
import { describe, expect, it } from "vitest"
import * as State from "../src/state.js"
import { config } from "./helpers.js"

type Cmd = State.Command<string>
const waiter = (): State.Waiter<string> => ({ enqueuedAt: 0, item: undefined, error: undefined, settled: false, notify: undefined })

/** Units shared by the pools; records calls so a test can see nothing runs inside a transition. */
class Units implements State.Budget {
  used = 0
  calls: Array<string> = []
  inTransition = false
  constructor(readonly max: number, public wantIdle = false) {}
  tryReserve(): boolean {
    this.calls.push("tryReserve")
    if (this.used >= this.max) return false
    this.used++
    return true
  }
  free(): void {
    this.calls.push("free")
    this.used--
  }
  idled(): boolean {
    this.calls.push("idled")
    return this.wantIdle
  }
  reclaim(): void {
    throw new Error("reclaim must not run inside a transition")
  }
  wake(): void {
    throw new Error("wake must not run inside a transition")
  }
}

const add = (state: State.PoolState<string>, value: string, out: Array<Cmd> = []) => {
  state.creating++
  const item = State.newItem(state, value, undefined, 0, 0)
  State.created(state, item, 0, out)
  return item
}

describe("shared budget commands", () => {
  it("a pool refused a unit is parked and returns Reclaim (starved) instead of reclaiming itself", () => {
    const units = new Units(1)
    const state = new State.PoolState<string>(config({ max: 3 }), units)
    const out: Array<Cmd> = []
    State.enqueue(state, waiter(), out)
    State.enqueue(state, waiter(), out)
    expect(out).toEqual([State.CREATE, State.RECLAIM_STARVED])
    expect(State.RECLAIM_STARVED).toEqual({ _tag: "Reclaim", starved: true })
    expect([state.starved, state.creating, units.used]).toEqual([true, 1, 1])
  })

  it("an item going idle asks the budget whether an idle item must be reclaimed: Reclaim (idle) when it says so", () => {
    const units = new Units(5)
    const state = new State.PoolState<string>(config({ max: 3 }), units)
    const out: Array<Cmd> = []
    add(state, "a", out)
    expect(out).toEqual([])
    units.wantIdle = true
    add(state, "b", out)
    expect(out).toEqual([State.RECLAIM_IDLE])
    expect(State.RECLAIM_IDLE).toEqual({ _tag: "Reclaim", starved: false })
    expect(units.calls).toEqual(["idled", "idled"])
  })

  it("every unit given back (a destruction over, a creation dropped, given up or aborted) is followed by Wake", () => {
    const units = new Units(5)
    const state = new State.PoolState<string>(config({ max: 3 }), units)
    expect(State.WAKE).toEqual({ _tag: "Wake" })
    const out: Array<Cmd> = []
    state.destroying = 1
    State.destroyed(state, out)
    expect(out).toEqual([State.WAKE])
    state.creating = 1
    out.length = 0
    expect(State.createFailed(state, "e", "c", out)).toBe(false)
    expect(out).toEqual([State.WAKE])
    state.creating = 1
    out.length = 0
    State.createGaveUp(state, "e", out)
    expect(out).toEqual([State.WAKE])
    state.creating = 1
    out.length = 0
    State.creationAborted(state, out)
    expect(out).toEqual([State.WAKE])
    expect(units.calls.filter((c) => c === "free").length).toBe(4)
  })

  it("without a budget: no Reclaim, no Wake", () => {
    const state = new State.PoolState<string>(config({ max: 1 }))
    const out: Array<Cmd> = []
    state.destroying = 1
    State.destroyed(state, out)
    state.creating = 1
    State.creationAborted(state, out)
    add(state, "a", out)
    expect(out).toEqual([])
  })
})
