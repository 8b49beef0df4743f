/**
 * The callback borrow both editions' `unsafeBorrow` is, on a host that records what the pool is
 * told: one item, handed at once or later, and the exits as strings.
 */
import { describe, expect, it } from "vitest"
import { type BorrowExits, type BorrowHost, CallbackBorrow, retriesOf } from "../src/borrow.js"
import type { Item } from "../src/state.js"

const exits: BorrowExits<string> = { done: "done", died: (thrown) => `died: ${String(thrown)}`, interrupted: () => "interrupted" }

const hostOf = (handAtOnce: boolean) => {
  const log: Array<string> = []
  const items = [{ value: "a" }, { value: "b" }] as Array<Item<string>>
  let next = 0
  let pending: ((item: Item<string> | undefined, failure: string | undefined) => void) | undefined
  const host: BorrowHost<string, string, string> = {
    unsafeBorrow: (_site, settle) => {
      const item = items[next++ % items.length]!
      if (handAtOnce) settle(item, undefined)
      else pending = settle
      return () => log.push("cancelled wait")
    },
    unsafeReturn: (item, exit, used) => log.push(`return ${item.value} ${exit} used=${used}`),
    invalidate: (item) => log.push(`invalidate ${item.value}`),
    reportDefect: (what) => log.push(`defect: ${what}`)
  }
  return { host, log, hand: (item?: Item<string>, failure?: string) => pending?.(item, failure), items }
}

describe("CallbackBorrow", () => {
  it("held, then returned once with the exit given (or done); a second return does nothing", () => {
    const { host, log } = hostOf(true)
    const seen: Array<string | undefined> = []
    const borrow = new CallbackBorrow(host, exits, undefined, (held) => seen.push(held?.value), 1, undefined).start()
    expect(borrow.state).toBe("held")
    borrow.return()
    borrow.return("again")
    expect(seen).toEqual(["a"])
    expect(log).toEqual(["return a done used=true"])
    expect(borrow.state).toBe("returned")
  })

  it("retry returns the item unused and waits once more, as often as its budget allows", () => {
    const { host, log } = hostOf(true)
    const seen: Array<string | undefined> = []
    const borrow = new CallbackBorrow(host, exits, undefined, (held) => seen.push(held?.value), 1, undefined)
    borrow.start()
    expect(borrow.retry()).toBe(true)
    expect(borrow.retry()).toBe(false)
    expect(seen).toEqual(["a", "b"])
    expect(log).toEqual(["return a done used=false"])
    expect(borrow.state).toBe("held")
  })

  it("cancel while waiting cancels the wait; an item handed after that goes back unused, unseen", () => {
    const { host, log, hand, items } = hostOf(false)
    const seen: Array<string | undefined> = []
    const borrow = new CallbackBorrow(host, exits, undefined, (held) => seen.push(held?.value), 1, undefined).start()
    expect(borrow.state).toBe("waiting")
    borrow.cancel()
    hand(items[0])
    expect(seen).toEqual([])
    expect(log).toEqual(["cancelled wait", "return a done used=false"])
  })

  it("cancel while held returns the item interrupted; abort ends only a wait, with its failure", () => {
    const held = hostOf(true)
    const borrow = new CallbackBorrow(held.host, exits, undefined, () => {}, 1, undefined).start()
    borrow.abort("late")
    borrow.cancel()
    expect(held.log).toEqual(["return a interrupted used=true"])
    const waiting = hostOf(false)
    const failures: Array<string | undefined> = []
    const aborted = new CallbackBorrow(waiting.host, exits, undefined, (_, failure) => failures.push(failure), 1, undefined).start()
    aborted.abort("deadline")
    expect(aborted.state).toBe("failed")
    expect(failures).toEqual(["deadline"])
    expect(waiting.log).toEqual(["cancelled wait"])
  })

  it("a callback that throws is reported, and the item it held is invalidated and returned as died", () => {
    const { host, log } = hostOf(true)
    new CallbackBorrow(host, exits, undefined, () => {
      throw "boom"
    }, 1, undefined).start()
    expect(log).toEqual(["invalidate a", "return a died: boom used=true", "defect: a borrow's callback threw"])
  })
})

describe("retriesOf", () => {
  it("1 by default; a whole number ≥ 0 or Infinity as given; anything else is the kind's bug", () => {
    expect(retriesOf(undefined)).toBe(1)
    expect(retriesOf({})).toBe(1)
    expect(retriesOf({ retries: 0 })).toBe(0)
    expect(retriesOf({ retries: Infinity })).toBe(Infinity)
    for (const bad of [-1, 0.5, NaN, "2"]) expect(() => retriesOf({ retries: bad as number })).toThrow(/retries must be a whole number/)
    expect(() => retriesOf({ retry: 1 } as never)).toThrow(/unknown option "retry"/)
  })
})
