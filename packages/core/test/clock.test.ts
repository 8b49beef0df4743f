/**
 * The pool's clock: on the real (default) clock the time is read once per synchronous stretch,
 * not on every borrow and return — and it still moves between stretches.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach, vi } from "vitest"
import { Pool } from "../src/index.js"
import { Backend } from "./helpers.js"

afterEach(() => {
  vi.restoreAllMocks()
})

describe("Pool: the real clock", () => {
  it.scopedLive("1,000 borrows in one synchronous stretch read the clock at most a few times", () =>
    Effect.gen(function*() {
      const reads = vi.spyOn(Date, "now")
      const backend = new Backend()
      const pool = yield* Pool.make({ acquire: backend.acquire, min: 1, max: 1 })
      yield* Pool.awaitMin(pool)
      const before = reads.mock.calls.length
      const borrows = Effect.forEach(Array.from({ length: 1_000 }), () => Pool.use(pool, Effect.succeed), { discard: true })
      const loop = Effect.runSync(Effect.as(borrows, true)) // one synchronous stretch
      expect(loop).toBe(true)
      // one read per borrow and per return would be 2,000
      expect(reads.mock.calls.length - before).toBeLessThanOrEqual(5)
    }))

  it.scopedLive("the time moves between stretches: validateAfterIdle fires after real idle time", () =>
    Effect.gen(function*() {
      const backend = new Backend()
      let validations = 0
      const pool = yield* Pool.make({
        acquire: backend.acquire,
        min: 1,
        max: 1,
        validate: () => Effect.sync(() => validations++),
        validateAfterIdle: "500 millis"
      })
      yield* Pool.awaitMin(pool)
      yield* Pool.use(pool, Effect.succeed)
      yield* Pool.use(pool, Effect.succeed)
      expect(validations).toBe(0) // back to back: not idle long enough
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 600)))
      yield* Pool.use(pool, Effect.succeed)
      expect(validations).toBe(1)
    }))
})
