/**
 * Hostile options and arguments (issue 17): every option of `WorkerPool.make` given wrong types,
 * out-of-range, overflowing, 0/Infinity/NaN values and unknown keys fails `make` with a
 * `PoolConfigError` naming it (or is accepted with its documented meaning); every `run` argument
 * that cannot be sent is a typed `TaskInputError`, the pool keeps working and no thread leaks.
 */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"
import { Cause, Effect, Exit, Fiber, Option, Result } from "effect"
import { until, workerFile } from "./helpers.js"

const basic = workerFile(`
import { threadId } from "node:worker_threads"
export default (x) => x
export const thread = () => threadId
export const wait = (ms) => new Promise((resolve) => setTimeout(() => resolve(threadId), ms))
`)

const makeEither = (options: Record<string, unknown>) =>
  Effect.scoped(Effect.result(WorkerPool.make({ filename: basic, maxWorkers: 1, minWorkers: 0, ...options } as any)))

/** [option, value, expected option named in the error] */
const rejected: ReadonlyArray<readonly [string, unknown, string?]> = [
  ["atomics", "Sync"],
  ["atomics", ""],
  ["atomics", true],
  ["atomics", 0],
  ["atomics", NaN],
  ["atomics", Infinity],
  ["atomics", {}],
  ["useAtomics", "false"],
  ["useAtomics", 0],
  ["useAtomics", NaN],
  ["filename", 12],
  ["filename", ""],
  ["filename", undefined],
  ["name", 12],
  ["name", ""],
  ["poolName", 12],
  ["poolName", "  "],
  ["minWorkers", -1],
  ["minWorkers", 1.5],
  ["minWorkers", NaN],
  ["minWorkers", "2"],
  ["minWorkers", Infinity],
  ["maxWorkers", 0],
  ["maxWorkers", NaN],
  ["maxWorkers", Infinity],
  ["maxWorkers", "4"],
  ["maxThreads", 0],
  ["minThreads", -1],
  ["idleTimeout", -1],
  ["idleTimeout", NaN],
  ["idleTimeout", "soon"],
  ["idleTimeout", {}],
  ["maxQueue", -1],
  ["maxQueue", 1.5],
  ["maxQueue", NaN],
  ["maxQueue", "lots"],
  ["concurrentTasksPerWorker", 0],
  ["concurrentTasksPerWorker", Infinity],
  ["concurrentTasksPerWorker", NaN],
  ["taskTimeout", 0],
  ["taskTimeout", -5],
  ["taskTimeout", NaN],
  ["taskTimeout", "soon"],
  ["cancelGracePeriod", -1],
  ["cancelGracePeriod", "later"],
  ["startupTimeout", 0],
  ["startupTimeout", NaN],
  ["startupTimeout", true],
  ["shutdownTimeout", -1],
  ["shutdownTimeout", "x"],
  ["maxTasksPerWorker", 0],
  ["maxTasksPerWorker", 2.5],
  ["maxTasksPerWorker", NaN],
  ["maxHeapUsedBeforeRecycle", 0],
  ["maxHeapUsedBeforeRecycle", -1],
  ["maxHeapUsedBeforeRecycle", "1mb"],
  ["resourceLimits", 0],
  ["resourceLimits", "big"],
  ["resourceLimits", { maxOldGenerationSizeMb: -1 }, "resourceLimits.maxOldGenerationSizeMb"],
  ["resourceLimits", { maxOldGenerationSizeMb: NaN }, "resourceLimits.maxOldGenerationSizeMb"],
  ["resourceLimits", { maxOldGenerationSizeMB: 64 }, "resourceLimits.maxOldGenerationSizeMB"],
  ["workerData", () => 1],
  ["workerData", { f: () => 1 }],
  ["workerData", Symbol("x")],
  ["env", "x"],
  ["env", 12],
  ["env", { A: { nested: true } }, "env.A"],
  ["argv", "--flag"],
  ["argv", [1], "argv[0]"],
  ["execArgv", "--inspect"],
  ["execArgv", [12], "execArgv[0]"],
  ["schema", 1],
  ["schema", { input: 1 }, "schema.input"],
  ["schema", { inptu: 1 }, "schema.inptu"]
]

describe("WorkerPool hostile options", () => {
  it.effect("options a user's getter or Proxy throws on reading are a PoolConfigError naming them, never a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [object, string]> = [
        [throwingGetter({ filename: basic, maxWorkers: 1, minWorkers: 0 }, "maxWorkers"), "maxWorkers"],
        [throwingGetter({ filename: basic, maxWorkers: 1, minWorkers: 0 }, "poolName"), "poolName"],
        [{ filename: basic, env: throwingGetter({}, "A") }, "env.A"],
        [throwingKeys({ filename: basic, maxWorkers: 1, minWorkers: 0 }), "options"],
        // a Proxy that throws on reading any key it does not list: options are read from the copy
        [throwingReads({ filename: basic, maxWorkers: -1, minWorkers: 0 }), "maxWorkers"],
        [protoKey({ filename: basic, maxWorkers: 1, minWorkers: 0 }), "__proto__"],
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(WorkerPool.make(options as any)))
        expect(error._tag, option).toBe("PoolConfigError")
        expect((error as { readonly option: string }).option, option).toBe(option)
      }
    }))

  it.effect("every option with a wrong type, out of range or NaN: PoolConfigError naming it", () =>
    Effect.gen(function*() {
      for (const [option, value, named] of rejected) {
        const result = yield* makeEither({ [option]: value })
        if (Result.isSuccess(result)) throw new Error(`${option}: ${String(value)} was accepted`)
        expect(result.failure._tag, `${option}: ${String(value)}`).toBe("PoolConfigError")
        expect((result.failure as any).option, `${option}: ${String(value)}`).toBe(named ?? option)
      }
    }))

  it.effect("options that are not an object", () =>
    Effect.gen(function*() {
      for (const options of [null, 1, "x", []]) {
        const result = yield* Effect.scoped(Effect.result(WorkerPool.make(options as any)))
        expect(Result.isFailure(result) && result.failure._tag).toBe("PoolConfigError")
      }
    }))

  it.effect("unknown keys: PoolConfigError naming the key, with a suggestion or the option to use", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["maxWorker", "did you mean \"maxWorkers\""],
        ["taskTimout", "did you mean \"taskTimeout\""],
        ["closeTimeout", "use \"shutdownTimeout\""],
        ["maxWaiters", "use \"maxQueue\""],
        ["concurrency", "use \"concurrentTasksPerWorker\""],
        ["niceIncrement", "use \"nothing"],
        ["zzzzzzzzzzzz", "is not a known option"]
      ]
      for (const [key, text] of cases) {
        const result = yield* makeEither({ [key]: 1 })
        expect(Result.isFailure(result), key).toBe(true)
        const error = (result as Result.Failure<any, any>).failure
        expect(error._tag).toBe("PoolConfigError")
        expect(error.option).toBe(key)
        expect(error.message).toContain(text)
      }
    }))

  it.live("piscina's names: minThreads/maxThreads accepted; both names with different values rejected", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: basic, minThreads: 2, maxThreads: 2 } as any)
      expect((yield* WorkerPool.stats(pool)).workers).toBe(2)
      expect(yield* WorkerPool.run(pool, 5)).toBe(5)
      const both = yield* makeEither({ maxWorkers: 2, maxThreads: 3 })
      expect(Result.isFailure(both) && (both.failure as any).option).toBe("maxThreads")
      const same = yield* makeEither({ maxWorkers: 2, maxThreads: 2 })
      expect(Result.isSuccess(same)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("edges with a documented meaning are accepted: Infinity = none, huge durations honoured, 0 where it means now", () =>
    Effect.gen(function*() {
      const accepted: ReadonlyArray<Record<string, unknown>> = [
        { taskTimeout: Infinity },
        { taskTimeout: "30 days" },
        { taskTimeout: 1e-9 }, // a positive duration Effect rounds to 0 ns: still positive
        { taskTimeout: "Infinity" }, // Effect 4's string for none, read the same by both editions
        { taskTimeout: null }, // null: not given
        { startupTimeout: Infinity },
        { startupTimeout: "30 days" },
        { cancelGracePeriod: 0 },
        { cancelGracePeriod: Infinity },
        { cancelGracePeriod: "30 days" },
        { idleTimeout: 0 },
        { idleTimeout: Infinity },
        { idleTimeout: "30 days" },
        { shutdownTimeout: 0 },
        { shutdownTimeout: Infinity },
        { maxQueue: 0 },
        { maxQueue: Infinity },
        { maxQueue: "auto" },
        { maxTasksPerWorker: Infinity },
        { maxHeapUsedBeforeRecycle: Infinity },
        { minWorkers: 0 },
        { env: { A: "1", B: 2 } },
        { execArgv: [] },
        { argv: ["--x"] },
        { resourceLimits: { maxOldGenerationSizeMb: 256 } },
        { workerData: { a: [1, 2], b: new Map([[1, 2]]) } },
        { name: undefined, poolName: undefined }
      ]
      for (const options of accepted) {
        const result = yield* makeEither(options)
        if (Result.isFailure(result)) throw new Error(`${JSON.stringify(options)} rejected: ${result.failure.message}`)
      }
    }))

  it.live("durations past 2^31-1 ms are honoured (the timer never fires), not fired after 1 ms", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({
        filename: basic,
        name: "wait",
        maxWorkers: 1,
        minWorkers: 1,
        taskTimeout: "30 days",
        startupTimeout: "30 days",
        cancelGracePeriod: "30 days"
      })
      expect(typeof (yield* WorkerPool.run(pool, 50))).toBe("number")
      expect(typeof (yield* WorkerPool.run(pool, 50, { timeout: "40 days" }))).toBe("number")
      expect((yield* WorkerPool.stats(pool)).timedOut).toBe(0)
      // an interrupted task that ignores its signal keeps its thread for the (huge) grace period
      const fiber = yield* Effect.forkChild(WorkerPool.run(pool, 300))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      yield* Effect.sleep("100 millis")
      const stats = yield* WorkerPool.stats(pool)
      expect(stats.started).toBe(1)
      expect(stats.exited).toBe(0)
    }).pipe(Effect.scoped))

  it.live("minWorkers above the default maxWorkers raises it (like piscina); above an explicit maxWorkers fails", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: basic, minWorkers: 16 })
      expect((yield* WorkerPool.stats(pool)).workers).toBe(16)
      const both = yield* makeEither({ minWorkers: 3, maxWorkers: 2 })
      expect(Result.isFailure(both) && (both.failure as any).option).toBe("minWorkers")
    }).pipe(Effect.scoped))
})

describe("WorkerPool hostile run arguments", () => {
  it.live("inputs and run options that cannot be sent: TaskInputError; the thread is kept and the pool works", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: basic, maxWorkers: 1, minWorkers: 1 })
      const first = yield* WorkerPool.run(pool, null, { name: "thread" })
      const detached = new ArrayBuffer(8)
      structuredClone(detached, { transfer: [detached] })
      const cases: ReadonlyArray<readonly [unknown, unknown, string]> = [
        [() => 1, undefined, "input"],
        [Symbol("s"), undefined, "input"],
        [{ nested: { f() {} } }, undefined, "input"],
        [1, { transfer: "buffer" }, "transfer"],
        [1, { transfer: [1] }, "transfer"],
        [1, { transfer: [{}] }, "transfer"],
        [1, { transfer: [detached] }, "transfer"],
        [1, { timeout: "soon" }, "timeout"],
        [1, { timeout: -1 }, "timeout"],
        [1, { timeout: NaN }, "timeout"],
        [1, { timeout: 0 }, "timeout"],
        [1, { timeout: {} }, "timeout"],
        [1, { timeout: "infinity" }, "timeout"],
        [1, { timeout: " Infinity" }, "timeout"],
        [1, { timeout: -1e-9 }, "timeout"],
        [1, { timeout: -0 }, "timeout"],
        [1, { name: 12 }, "name"],
        [1, { name: "" }, "name"],
        [1, { name: Symbol("n") }, "name"],
        [1, { signal: new AbortController().signal }, "signal"],
        [1, { tranfser: [] }, "tranfser"],
        [1, "options", "options"],
        [1, 12, "options"],
        // a getter or Proxy of the caller's that throws: that argument's error, never a defect
        [1, throwingGetter({}, "name"), "name"],
        [1, throwingGetter({}, "timeout"), "timeout"],
        [1, throwingReads({ timeout: -1 }), "timeout"],
        [1, { transfer: new Proxy([new ArrayBuffer(1)], { get: (t, k) => (k === "0" ? (() => { throw new Error("element") })() : Reflect.get(t, k)) }) }, "transfer"],
        [1, protoKey({}), "__proto__"]
      ]
      for (const [input, options, argument] of cases) {
        const exit = yield* Effect.exit(WorkerPool.run(pool, input, options as any))
        if (Exit.isSuccess(exit)) throw new Error(`${argument} case succeeded`)
        const failure = Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any
        expect(failure?._tag, `${argument}: ${String(exit.cause)}`).toBe("TaskInputError")
        expect((failure as any).argument).toBe(argument)
      }
      // the same thread (never lost, never replaced), and it still works
      expect(yield* WorkerPool.run(pool, null, { name: "thread" })).toBe(first)
      expect(yield* WorkerPool.run(pool, { ok: true })).toEqual({ ok: true })
      const stats = yield* WorkerPool.stats(pool)
      expect(stats.workers).toBe(1)
      expect(stats.started).toBe(1)
      expect(stats.running).toBe(0)
    }).pipe(Effect.scoped))

  it.live("run options: null is not given (the pool's taskTimeout, the pool's export), a tiny positive timeout is a timeout, \"Infinity\" is none", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: basic, maxWorkers: 1, minWorkers: 1, taskTimeout: "150 millis", cancelGracePeriod: "30 seconds" })
      const outcome = (input: unknown, options: unknown) =>
        Effect.map(Effect.exit(WorkerPool.run(pool, input, options as any)), (exit) =>
          Exit.isSuccess(exit) ? "success" : ((Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any))?._tag)
      // null: the pool's taskTimeout applies (before, null meant no timeout at all)
      expect(yield* outcome(600, { name: "wait", timeout: null })).toBe("TaskTimeoutError")
      // a positive duration Effect rounds to 0 ns is still positive: a timeout at the first timer tick
      expect(yield* outcome(300, { name: "wait", timeout: 1e-9 })).toBe("TaskTimeoutError")
      expect(yield* outcome(300, { name: "wait", timeout: [0, 0.5] })).toBe("TaskTimeoutError")
      // the string "Infinity" is no timeout in both editions, as the number (over the pool's 150 ms)
      expect(yield* outcome(300, { name: "wait", timeout: "Infinity" })).toBe("success")
      expect(yield* outcome(300, { name: "wait", timeout: Infinity })).toBe("success")
      // name and transfer null: not given (the pool's export, nothing transferred)
      expect(yield* WorkerPool.run(pool, 7, { name: null, transfer: null, timeout: null } as any)).toBe(7)
    }).pipe(Effect.scoped))

  it.live("export names that are missing or inherited (constructor, __proto__, toString): TaskFailedError, the pool works", () =>
    Effect.gen(function*() {
      const cjs = workerFile(`module.exports = { run: (x) => x + 1 }`, "cjs")
      for (const filename of [basic, cjs]) {
        const pool = yield* WorkerPool.make<unknown, unknown>({ filename, name: filename === cjs ? "run" : "default", maxWorkers: 1, minWorkers: 1 })
        for (const name of ["missing", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
          const exit = yield* Effect.exit(WorkerPool.run(pool, 1, { name }))
          expect(Exit.isFailure(exit) && (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)?._tag, name).toBe("TaskFailedError")
        }
        expect(yield* WorkerPool.run(pool, 1)).toBe(filename === cjs ? 2 : 1)
        expect((yield* WorkerPool.stats(pool)).started).toBe(1)
      }
    }).pipe(Effect.scoped))

  it.live("no thread is left after close, after all of the above", () =>
    Effect.gen(function*() {
      let threads = 0
      yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* WorkerPool.make<unknown, unknown>({ filename: basic, maxWorkers: 2, minWorkers: 2 })
        yield* Effect.exit(WorkerPool.run(pool, () => 1))
        yield* Effect.exit(WorkerPool.run(pool, 1, { transfer: [{}] as any }))
        threads = (yield* WorkerPool.stats(pool)).workers
        ;(globalThis as any).__hostilePool = pool
      }))
      expect(threads).toBe(2)
      const pool = (globalThis as any).__hostilePool
      yield* until("every thread started has exited", Effect.map(WorkerPool.stats(pool), (s) => s.exited === s.started))
      expect((yield* WorkerPool.stats(pool)).workers).toBe(0)
    }))
})

describe("WorkerPool hostile values from handlers and callers", () => {
  it.live("a plain-object failure with a BigInt, a cycle, a function or a throwing getter keeps its _tag and every field that can be sent; the others are named", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { Effect } from "effect"
export const bigint = () => { throw { _tag: "NotFound", id: 1n, table: "users" } }
export const cycle = () => { const e = { _tag: "Cyclic", depth: 2 }; e.self = e; throw e }
export const effectBigint = () => Effect.fail({ _tag: "Overdrawn", cents: 12345678901234567890n })
export const mixed = () => { throw { _tag: "Mixed", n: 7n, f: () => 1, get boom() { throw new Error("getter") }, ok: [1, 2] } }
export const errorCycle = () => { const e = Object.assign(new Error("cyclic error"), { code: "E_CYCLE", n: 2n }); e.self = { back: e, n: 3n }; e.self.self = e.self; throw e }
`)
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: file, maxWorkers: 1, minWorkers: 1 })
      const failed = (name: string) =>
        Effect.map(Effect.exit(WorkerPool.run(pool, null, { name })), (exit) => {
          if (Exit.isSuccess(exit)) throw new Error(`${name} succeeded`)
          const error = (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)
          expect(error?._tag, `${name}: ${String(exit.cause)}`).toBe("TaskFailedError")
          return error as { readonly error: Error; readonly fields: Record<string, any>; readonly message: string }
        })
      const bigint = yield* failed("bigint")
      expect(bigint.fields).toEqual({ _tag: "NotFound", id: 1n, table: "users" })
      expect(bigint.error.name).toBe("NotFound")
      expect((bigint.error as any)._tag).toBe("NotFound")
      expect(bigint.message).toContain("NotFound")
      const cycle = yield* failed("cycle")
      expect(cycle.fields._tag).toBe("Cyclic")
      expect(cycle.fields.depth).toBe(2)
      expect(cycle.fields.self.self).toBe(cycle.fields.self) // the cycle survives structured clone
      expect(cycle.error.name).toBe("Cyclic")
      const effect = yield* failed("effectBigint")
      expect(effect.fields).toEqual({ _tag: "Overdrawn", cents: 12345678901234567890n })
      const mixed = yield* failed("mixed")
      expect(mixed.fields._tag).toBe("Mixed")
      expect(mixed.fields.n).toBe(7n)
      expect(mixed.fields.ok).toEqual([1, 2])
      // what cannot be sent keeps its key, as a string saying why
      expect(mixed.fields.f).toMatch(/cannot be cloned.*function/)
      expect(mixed.fields.boom).toMatch(/cannot be read.*getter/)
      const errorCycle = yield* failed("errorCycle")
      expect(errorCycle.error.message).toBe("cyclic error")
      expect(errorCycle.fields.code).toBe("E_CYCLE")
      expect(errorCycle.fields.n).toBe(2n)
      expect(errorCycle.fields.self.self).toBe(errorCycle.fields.self)
      expect((yield* WorkerPool.stats(pool)).started).toBe(1)
    }).pipe(Effect.scoped))

  it.live("a handler's value or error that throws when read fails its task; the thread lives on", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { threadId } from "node:worker_threads"
export const thread = () => threadId
export const badThen = () => ({ get then() { throw new Error("then getter") } })
export const badError = () => { throw { get message() { throw new Error("message getter") } } }
export const uncloneable = () => ({ f() {} })
`)
      const pool = yield* WorkerPool.make<unknown, unknown>({ filename: file, name: "thread", maxWorkers: 1, minWorkers: 1 })
      const first = yield* WorkerPool.run(pool, null)
      for (const name of ["badThen", "badError", "uncloneable"]) {
        const exit = yield* Effect.exit(WorkerPool.run(pool, null, { name }))
        expect(Exit.isFailure(exit) && (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)?._tag, name).toBe("TaskFailedError")
      }
      expect(yield* WorkerPool.run(pool, null)).toBe(first)
      const hostileOptions = new Proxy({}, { ownKeys: () => { throw new Error("proxy") } })
      const exit = yield* Effect.exit(WorkerPool.run(pool, null, hostileOptions as any))
      expect(Exit.isFailure(exit) && (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)?._tag).toBe("TaskInputError")
    }).pipe(Effect.scoped))
})

describe("options that are not an object", () => {
  it.effect("WorkerPool.make with undefined, null, 5 or an array is a PoolConfigError naming options, not a defect", () =>
    Effect.gen(function*() {
      for (const given of [undefined, null, 5, [1]]) {
        const error = yield* Effect.flip(Effect.scoped(WorkerPool.make(given as never)))
        expect(error._tag).toBe("PoolConfigError")
        expect((error as { option?: string }).option).toBe("options")
      }
    }))
})
