/** Callback.guard: a user's callback that throws returns `onThrow(thrown)`; otherwise it is `f`. */
import { describe, expect, it } from "vitest"
import { guard, suspendsOn } from "../src/callback.js"

describe("Callback.guard", () => {
  it("passes the arguments through and returns what f returns", () => {
    const add = guard((a: number, b: number) => a + b, () => -1)
    expect(add(2, 3)).toBe(5)
  })

  it("a synchronous throw returns onThrow of the thrown value (any value, not only an Error)", () => {
    const seen: Array<unknown> = []
    const onThrow = (thrown: unknown) => {
      seen.push(thrown)
      return "caught"
    }
    const error = new Error("boom")
    expect(guard(() => { throw error }, onThrow)()).toBe("caught")
    expect(guard(() => { throw undefined }, onThrow)()).toBe("caught")
    expect(seen).toEqual([error, undefined])
  })
})

describe("Callback.suspendsOn", () => {
  it("evict never suspends, suspend always; a function decides per failure, and one that throws evicts", () => {
    expect(suspendsOn("evict")("x")).toBe(false)
    expect(suspendsOn("suspend")("x")).toBe(true)
    const byError = suspendsOn((error) => (error === "busy" ? "suspend" : "evict"))
    expect([byError("busy"), byError("down")]).toEqual([true, false])
    expect(suspendsOn(() => { throw new Error("the user's onFailure threw") })("x")).toBe(false)
  })
})
