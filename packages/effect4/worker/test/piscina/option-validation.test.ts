/**
 * Port of piscina 5.3.2 test/option-validation.test.ts: piscina throws from the constructor,
 * ours fails make with PoolConfigError naming the option (see README.md for the options ours lacks).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import { fixture, pool, run } from "./helpers.js"

const rejectsOption = (options: Record<string, unknown>, option: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(pool({ filename: fixture("eval.js"), ...options } as any))
    expect(Exit.isFailure(exit)).toBe(true)
    const error: any = Exit.isFailure(exit) ? (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any) : undefined
    expect(error?._tag).toBe("PoolConfigError")
    expect(error?.option).toBe(option)
  }).pipe(Effect.scoped)

describe("piscina option-validation", () => {
  it.live("filename cannot be non-null/non-string", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(pool({ filename: 12 as any }))
      const error: any = Exit.isFailure(exit) ? (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any) : undefined
      expect(error?._tag).toBe("PoolConfigError")
      expect(error?.option).toBe("filename")
    }).pipe(Effect.scoped))

  it.live("minThreads must be non-negative integer", () =>
    Effect.all([rejectsOption({ minWorkers: -1 }, "minWorkers"), rejectsOption({ minWorkers: "string" }, "minWorkers")]))

  it.live("maxThreads must be positive integer", () =>
    Effect.all([
      rejectsOption({ maxWorkers: -1 }, "maxWorkers"),
      rejectsOption({ maxWorkers: 0 }, "maxWorkers"),
      rejectsOption({ maxWorkers: "string" }, "maxWorkers")
    ]))

  it.live("concurrentTasksPerWorker must be positive integer", () =>
    Effect.all([
      rejectsOption({ concurrentTasksPerWorker: -1 }, "concurrentTasksPerWorker"),
      rejectsOption({ concurrentTasksPerWorker: 0 }, "concurrentTasksPerWorker"),
      rejectsOption({ concurrentTasksPerWorker: "string" }, "concurrentTasksPerWorker")
    ]))

  it.live("idleTimeout must be non-negative", () =>
    Effect.all([rejectsOption({ idleTimeout: -1 }, "idleTimeout"), rejectsOption({ idleTimeout: "string" }, "idleTimeout")]))

  it.live("maxQueue must be non-negative integer", () =>
    Effect.all([rejectsOption({ maxQueue: -1 }, "maxQueue"), rejectsOption({ maxQueue: "string" }, "maxQueue")]))
})

// Was pending; passes since b1d53f7 (options and Worker settings read from own properties only).
// Cause: src/internal/pool.ts read name/env/execArgv by plain property access, so keys inherited
// from a polluted Object.prototype reached the threads.
describe("piscina option-validation — options read through the prototype (was pending)", () => {
  it.live("name is not tampered", () =>
    Effect.gen(function*() {
      const polluted = { name: "b" }
      const opts1 = { filename: fixture("multiple.js") }
      const opts2 = Object.setPrototypeOf({ filename: fixture("multiple.js") }, polluted)
      expect(yield* run(yield* pool(opts1), {})).toBe("a")
      expect(yield* run(yield* pool(opts2), {})).toBe("a")
    }).pipe(Effect.scoped))


  for (const key of ["execArgv", "env"] as const) {
    it.live(`${key} is not tampered`, () =>
      Effect.gen(function*() {
        ;(Object.prototype as any)[key] = key === "env" ? { NODE_OPTIONS: "--title=polluted" } : ["--not-a-real-flag"]
        try {
          const p = yield* pool({ filename: fixture("eval.js"), minWorkers: 1, maxWorkers: 1 })
          expect(yield* run(p, "42")).toBe(42)
        } finally {
          delete (Object.prototype as any)[key]
        }
      }).pipe(Effect.scoped))
  }

  it.live("filename is not tampered", () =>
    Effect.gen(function*() {
      const polluted = { filename: fixture("eval.js") }
      const opts1 = Object.setPrototypeOf({}, polluted)
      const exit = yield* Effect.exit(pool(opts1))
      // an inherited filename is no filename: make fails naming it (piscina: "filename must be provided")
      const error: any = Exit.isFailure(exit) ? (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any) : undefined
      expect(error?._tag).toBe("PoolConfigError")
      expect(error?.option).toBe("filename")
    }).pipe(Effect.scoped))
})

// Was pending; passes since main 5def2ca (fix/worker merged).
describe("piscina option-validation (fixed)", () => {
  it.live("name cannot be non-null/non-string", () => rejectsOption({ name: 12 }, "name"))

  it.live("resourceLimits must be an object", () => rejectsOption({ resourceLimits: 0 }, "resourceLimits"))
})
