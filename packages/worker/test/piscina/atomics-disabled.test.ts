/**
 * The whole piscina suite again, every pool with `atomics: "disabled"` (piscina's option: threads
 * never park in `Atomics.wait`, they wait for tasks in their event loop): every case must pass in
 * both modes. The suite's files register their tests here under a describe of their own.
 */
import { describe, expect, it } from "@effect/vitest"
import { suiteOptions } from "./helpers.js"

suiteOptions.atomics = "disabled"

describe("piscina suite with atomics: \"disabled\"", async () => {
  it("every pool of the suite below is made with atomics: \"disabled\"", () => {
    expect(suiteOptions.atomics).toBe("disabled")
  })
  await import("./abort-task.test.js")
  await import("./errors-queue.test.js")
  await import("./misc.test.js")
  await import("./option-validation.test.js")
  await import("./post-task.test.js")
  await import("./queue-atomics-move.test.js")
  await import("./simple.test.js")
  await import("./thread-count.test.js")
})
