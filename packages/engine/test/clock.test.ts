/** perTick: one read per synchronous stretch, a fresh one after the microtask queue drains. */
import { describe, expect, it } from "vitest"
import { perTick } from "../src/clock.js"

describe("perTick", () => {
  it("reads once within a synchronous stretch", () => {
    let reads = 0
    const now = perTick(() => ++reads)
    expect([now(), now(), now()]).toEqual([1, 1, 1])
    expect(reads).toBe(1)
  })

  it("reads again once the stretch has ended (after a microtask, after a macrotask)", async () => {
    let reads = 0
    const now = perTick(() => ++reads)
    expect(now()).toBe(1)
    await Promise.resolve()
    await Promise.resolve()
    expect(now()).toBe(2)
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(now()).toBe(3)
    expect(now()).toBe(3)
  })

  it("does not read while nobody asks", async () => {
    let reads = 0
    const now = perTick(() => ++reads)
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(reads).toBe(0)
    now()
    expect(reads).toBe(1)
  })
})
