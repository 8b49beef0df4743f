/**
 * A backend's waits for a channel: fail-fast waits end when a connection attempt fails with no
 * connection up (not with one up), at once (next turn) while the backend is failing to connect,
 * never for waitForReady; the deadline ends a wait, in steps past the timer limit; settle
 * clears both; the load counts channels in rotation only, and the waits armed and not settled.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { BackendWaits, type WaitChannel } from "../../src/grpc/wait.js"
import { MAX_TIMER_MILLIS } from "../../src/options.js"

const channel = (borrowers: number, lost = false): WaitChannel => ({ lost, closed: false, item: { borrowers } })

describe("BackendWaits", () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("fail-fast: a failed attempt ends the waits with its error while no connection is up", () => {
    const waits = new BackendWaits<string>(false)
    const ended: Array<string> = []
    const settle = waits.arm({ waitForReady: undefined, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    const patient = waits.arm({ waitForReady: true, deadline: Infinity }, (e) => ended.push(`patient ${e}`), () => "deadline")
    waits.connectionFailed("refused")
    expect(ended).toEqual(["refused"])
    settle()
    patient()
    waits.connectionFailed("again")
    expect(ended).toEqual(["refused"])
  })

  it("fail-fast with a connection up: the wait stays", () => {
    const waits = new BackendWaits<string>(false)
    waits.channels.add(channel(1))
    const ended: Array<string> = []
    waits.arm({ waitForReady: false, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    waits.connectionFailed("refused")
    expect(ended).toEqual([])
  })

  it("while failing to connect (an attempt failed, another under way, none up): the failure on the next turn, not synchronously", () => {
    const waits = new BackendWaits<string>(false)
    waits.connectionFailed("refused")
    waits.connecting = 1
    const ended: Array<string> = []
    waits.arm({ waitForReady: undefined, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    expect(ended).toEqual([])
    vi.runAllTicks()
    vi.advanceTimersByTime(0)
    return new Promise<void>((resolve) => {
      vi.useRealTimers()
      setImmediate(() => {
        expect(ended).toEqual(["refused"])
        resolve()
      })
    })
  })

  it("an attempt failed but none under way: a new fail-fast wait waits for the next attempt's outcome", async () => {
    const waits = new BackendWaits<string>(false)
    waits.connectionFailed("refused")
    const ended: Array<string> = []
    waits.arm({ waitForReady: undefined, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    vi.useRealTimers()
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(ended).toEqual([])
    waits.connectionFailed("refused again")
    expect(ended).toEqual(["refused again"])
  })

  it("no deadline: no timer is held (nothing keeps the process up for the wait)", () => {
    const waits = new BackendWaits<string>(true)
    const settle = waits.arm({ waitForReady: undefined, deadline: Infinity }, () => {}, () => "deadline")
    expect(vi.getTimerCount()).toBe(0)
    settle()
    waits.arm({ waitForReady: undefined, deadline: Date.now() + 10 }, () => {}, () => "deadline")
    expect(vi.getTimerCount()).toBe(1)
  })

  it("a connected channel clears the failure: a new fail-fast wait waits", () => {
    const waits = new BackendWaits<string>(false)
    waits.connectionFailed("refused")
    waits.connecting = 1
    waits.connected()
    const ended: Array<string> = []
    waits.arm({ waitForReady: undefined, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    vi.advanceTimersByTime(10_000)
    expect(ended).toEqual([])
  })

  it("the deadline ends a wait; past the timer limit it is re-armed in steps; settle clears it", () => {
    const waits = new BackendWaits<string>(true)
    const ended: Array<string> = []
    const now = Date.now()
    waits.arm({ waitForReady: undefined, deadline: new Date(now + 1_000) }, (e) => ended.push(e), () => "deadline")
    vi.advanceTimersByTime(999)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1)
    expect(ended).toEqual(["deadline"])
    const far = now + 1_000 + 2 ** 31 + 5_000
    waits.arm({ waitForReady: undefined, deadline: far }, (e) => ended.push(`far ${e}`), () => "deadline")
    vi.advanceTimersByTime(2 ** 31 - 1)
    expect(ended).toEqual(["deadline"])
    vi.advanceTimersByTime(far - Date.now())
    expect(ended).toEqual(["deadline", "far deadline"])
    const settle = waits.arm({ waitForReady: undefined, deadline: Date.now() + 10 }, (e) => ended.push(`settled ${e}`), () => "deadline")
    settle()
    vi.advanceTimersByTime(100)
    expect(ended).toEqual(["deadline", "far deadline"])
  })

  it("a deadline exactly at the timer limit ends the wait at its ms, with one timer", () => {
    const waits = new BackendWaits<string>(true)
    const ended: Array<string> = []
    waits.arm({ waitForReady: undefined, deadline: Date.now() + MAX_TIMER_MILLIS }, (e) => ended.push(e), () => "deadline")
    vi.advanceTimersByTime(MAX_TIMER_MILLIS - 1)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1)
    expect(ended).toEqual(["deadline"])
  })

  it("settle ends only what its own arm listed (a callback shared by two waits), however often it is called", () => {
    const waits = new BackendWaits<string>(false)
    const ended: Array<string> = []
    const giveUp = (e: string) => void ended.push(e)
    // a patient wait and a fail-fast one with the same callback: settling the patient one leaves the other listed
    const patient = waits.arm({ waitForReady: true, deadline: Infinity }, giveUp, () => "deadline")
    const failFast = waits.arm({ waitForReady: false, deadline: Infinity }, giveUp, () => "deadline")
    patient()
    waits.connectionFailed("refused")
    expect(ended).toEqual(["refused"])
    // a settled wait settled again does not end a later listing of the same callback
    failFast()
    waits.arm({ waitForReady: false, deadline: Infinity }, giveUp, () => "deadline")
    failFast()
    waits.connectionFailed("again")
    expect(ended).toEqual(["refused", "again"])
  })

  it("load: channels in rotation and their calls; lost ones left out (and not a connection)", () => {
    const waits = new BackendWaits<string>(false)
    waits.channels.add(channel(2))
    waits.channels.add(channel(3, true))
    expect(waits.load()).toEqual({ channels: 1, activeCalls: 2, waitingCalls: 0 })
    expect(waits.hasConnection()).toBe(true)
    const lost = new BackendWaits<string>(false)
    lost.channels.add(channel(0, true))
    expect(lost.hasConnection()).toBe(false)
  })

  it("waiting: every wait armed until settled (once, however it ends) — fail-fast, waitForReady, a failure due next turn; in the load", () => {
    const waits = new BackendWaits<string>(false)
    const ended: Array<string> = []
    const fast = waits.arm({ waitForReady: undefined, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    const patient = waits.arm({ waitForReady: true, deadline: Date.now() + 1_000 }, (e) => ended.push(e), () => "deadline")
    expect(waits.waiting).toBe(2)
    expect(waits.load()).toEqual({ channels: 0, activeCalls: 0, waitingCalls: 2 })
    // the fail-fast wait given up by the failure: its borrow's callback settles it
    waits.connectionFailed("refused")
    expect(ended).toEqual(["refused"])
    expect(waits.waiting).toBe(2)
    fast()
    fast()
    expect(waits.waiting).toBe(1)
    // failing to connect: the failure is due on the next turn; it waits until then
    waits.connecting = 1
    const due = waits.arm({ waitForReady: false, deadline: Infinity }, (e) => ended.push(e), () => "deadline")
    expect(waits.waiting).toBe(2)
    due()
    expect(waits.waiting).toBe(1)
    // (the failure due still runs: the edition's abort does nothing to a borrow no longer waiting)
    vi.advanceTimersByTime(1_000)
    expect(ended).toEqual(["refused", "refused", "deadline"])
    patient()
    expect(waits.waiting).toBe(0)
    expect(waits.load().waitingCalls).toBe(0)
  })
})
