/** The worker pool's behaviour on real threads: handlers of every kind, options, Schemas, stats. */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { PoolConfigError, PoolQueueFullError } from "@effect-pool/core"
import { WorkerPool } from "@effect-pool/worker"
import { Config, ConfigProvider, Context, Effect, Fiber, Metric, Result, Schema } from "effect"
import { TestClock } from "effect/testing"
import { until, workerFile } from "./helpers.js"

const basic = workerFile(`
import { threadId, workerData } from "node:worker_threads"
export default ({ a, b }) => a + b
export const double = (n) => Promise.resolve(n * 2)
export const thread = () => threadId
export const data = () => workerData
export const env = () => process.env.EFFECT_POOL_TEST
export const wait = (ms) => new Promise((resolve) => setTimeout(() => resolve(threadId), ms))
// blocks its thread until n tasks have arrived (each on its own thread)
export const meet = ([i32, n]) => {
  Atomics.add(i32, 0, 1)
  Atomics.notify(i32, 0)
  for (let seen; (seen = Atomics.load(i32, 0)) < n;) Atomics.wait(i32, 0, seen)
  return threadId
}
export const bytes = (buffer) => ({ length: buffer.byteLength, sum: new Uint8Array(buffer).reduce((s, x) => s + x, 0) })
`)

describe("WorkerPool", () => {
  it.live("runs the default export, named exports per pool and per task, and Promise results", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<{ a: number; b: number }, number>({ filename: basic, maxWorkers: 2 })
      expect(yield* WorkerPool.run(pool, { a: 1, b: 2 })).toBe(3)
      expect(yield* WorkerPool.run(pool as any, 21, { name: "double" })).toBe(42)
      const doubler = yield* WorkerPool.make<number, number>({ filename: basic, name: "double", maxWorkers: 1 })
      expect(yield* doubler.pipe(WorkerPool.run(5))).toBe(10)
      const many = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) => WorkerPool.run(pool, { a: i, b: i }), { concurrency: 32 })
      expect(many).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i))
    }).pipe(Effect.scoped))

  it.live("takes the filename as a path, a URL or a file: href, and passes workerData and env", () =>
    Effect.gen(function*() {
      const url = new URL(`file://${basic}`)
      for (const filename of [basic, url, url.href]) {
        const pool = yield* WorkerPool.make<unknown, unknown>({
          filename,
          name: "data",
          workerData: { hello: "world" },
          env: { EFFECT_POOL_TEST: "yes" },
          maxWorkers: 1
        })
        expect(yield* WorkerPool.run(pool, null)).toEqual({ hello: "world" })
        expect(yield* WorkerPool.run(pool, null, { name: "env" })).toBe("yes")
      }
    }).pipe(Effect.scoped))

  it.live("runs a piscina worker file unchanged (CommonJS, default and named exports)", () =>
    Effect.gen(function*() {
      const piscinaFile = workerFile(`
module.exports = ({ a, b }) => a + b
module.exports.square = (n) => n * n
`, "cjs")
      const pool = yield* WorkerPool.make<{ a: number; b: number }, number>({ filename: piscinaFile, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool, { a: 2, b: 3 })).toBe(5)
      expect(yield* WorkerPool.run(pool as any, 7, { name: "square" })).toBe(49)
      const esm = workerFile(`export default async (x) => x + 1\nexport async function square(n) { return n * n }`)
      const esmPool = yield* WorkerPool.make<number, number>({ filename: esm, maxWorkers: 1 })
      expect(yield* WorkerPool.run(esmPool, 1)).toBe(2)
    }).pipe(Effect.scoped))

  it.live("Effect handlers run in the thread; WorkerPool.handler builds its layer once per thread", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { Context, Effect, Layer } from "effect"
import { WorkerPool } from "@effect-pool/worker"
let builds = 0
class Counter extends Context.Service()("Counter") {}
export default (n) => Effect.succeed(n + 1)
export const fails = () => Effect.fail({ _tag: "Nope", reason: "because" })
export const withLayer = WorkerPool.handler(
  Layer.sync(Counter, () => ({ builds: ++builds })),
  (n) => Effect.map(Counter, (c) => ({ n, builds: c.builds }))
)
`)
      const pool = yield* WorkerPool.make<number, number>({ filename: file, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool, 41)).toBe(42)
      const failure = yield* Effect.flip(WorkerPool.run(pool, 0, { name: "fails" }))
      expect(failure._tag).toBe("TaskFailedError")
      if (failure._tag === "TaskFailedError") expect(failure.fields).toEqual({ _tag: "Nope", reason: "because" })
      const layered = yield* WorkerPool.make<number, { n: number; builds: number }>({ filename: file, name: "withLayer", maxWorkers: 1 })
      const results = yield* Effect.forEach([1, 2, 3, 4], (n) => WorkerPool.run(layered, n))
      expect(results).toEqual([1, 2, 3, 4].map((n) => ({ n, builds: 1 })))
    }).pipe(Effect.scoped))

  it.live("a failing task carries its error's name, message, stack and fields; its worker lives on", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { threadId } from "node:worker_threads"
class QuotaError extends Error { constructor() { super("over quota"); this.name = "QuotaError"; this.code = "E_QUOTA"; this.limit = 10 } }
export default (mode) => { if (mode === "throw") throw new QuotaError(); if (mode === "reject") return Promise.reject(new TypeError("bad type")); return threadId }
`)
      const pool = yield* WorkerPool.make<string, number>({ filename: file, maxWorkers: 1, minWorkers: 1 })
      const thread = yield* WorkerPool.run(pool, "ok")
      const thrown = yield* Effect.flip(WorkerPool.run(pool, "throw"))
      expect(thrown).toMatchObject({ _tag: "TaskFailedError", threadId: thread, fields: { code: "E_QUOTA", limit: 10 } })
      if (thrown._tag !== "TaskFailedError") throw new Error("expected TaskFailedError")
      expect(thrown.error.name).toBe("QuotaError")
      expect(thrown.error.message).toBe("over quota")
      expect(thrown.error.stack).toContain("QuotaError: over quota")
      expect(thrown.message).toBe("QuotaError: over quota")
      const rejected = yield* Effect.flip(WorkerPool.run(pool, "reject"))
      expect(rejected).toMatchObject({ _tag: "TaskFailedError", message: "TypeError: bad type" })
      expect(yield* WorkerPool.run(pool, "ok")).toBe(thread)
      expect(yield* WorkerPool.stats(pool)).toMatchObject({ failed: 2, completed: 2, crashes: 0, started: 1, exited: 0 })
    }).pipe(Effect.scoped))

  it.live("Schemas: a bad input is a SchemaError that never reaches a thread; outputs are decoded", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { Schema } from "effect"
import { WorkerPool } from "@effect-pool/worker"
export default WorkerPool.handler(
  { input: Schema.Struct({ n: Schema.NumberFromString }), output: Schema.Struct({ at: Schema.DateFromString }) },
  ({ n }) => ({ at: new Date(n) })
)
`)
      const schema = { input: Schema.Struct({ n: Schema.NumberFromString }), output: Schema.Struct({ at: Schema.DateFromString }) }
      const pool = yield* WorkerPool.make({ filename: file, schema, minWorkers: 0, maxWorkers: 1 })
      const bad = yield* Effect.flip(WorkerPool.run(pool, { n: "not a number" as any }))
      expect(bad._tag).toBe("SchemaError")
      expect((yield* WorkerPool.stats(pool)).started).toBe(0)
      const good = yield* WorkerPool.run(pool, { n: 86_400_000 })
      expect(good.at).toBeInstanceOf(Date)
      expect(good.at.toISOString()).toBe("1970-01-02T00:00:00.000Z")
    }).pipe(Effect.scoped))

  it.live("transferables: an ArrayBuffer in transfer is detached in the sender and arrives whole", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<ArrayBuffer, { length: number; sum: number }>({ filename: basic, name: "bytes", maxWorkers: 1 })
      const buffer = new Uint8Array(1024 * 1024).fill(3).buffer
      const result = yield* WorkerPool.run(pool, buffer, { transfer: [buffer] })
      expect(buffer.byteLength).toBe(0)
      expect(result).toEqual({ length: 1024 * 1024, sum: 3 * 1024 * 1024 })
    }).pipe(Effect.scoped))

  it.live("maxQueue: the task past it fails at once with PoolQueueFullError, nothing else is lost", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({ filename: basic, name: "wait", maxWorkers: 1, minWorkers: 1, maxQueue: 2 })
      const running = yield* Effect.forkChild(WorkerPool.run(pool, 200))
      yield* until("the first task is running", Effect.map(WorkerPool.stats(pool), (s) => s.running === 1))
      const queued = yield* Effect.forkChild(Effect.all([WorkerPool.run(pool, 1), WorkerPool.run(pool, 1)], { concurrency: "unbounded" }))
      yield* until("two tasks queued", Effect.map(WorkerPool.stats(pool), (s) => s.queued === 2))
      const refused = yield* Effect.flip(WorkerPool.run(pool, 1))
      expect(refused).toBeInstanceOf(PoolQueueFullError)
      yield* Fiber.join(running)
      expect((yield* Fiber.join(queued)).length).toBe(2)
      expect(yield* WorkerPool.stats(pool)).toMatchObject({ completed: 3, failed: 0, queued: 0, running: 0 })
    }).pipe(Effect.scoped))

  it.live("concurrentTasksPerWorker: one thread runs several waiting tasks at once", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<number, number>({ filename: basic, name: "wait", maxWorkers: 1, concurrentTasksPerWorker: 4 })
      const threads = yield* Effect.forEach([300, 300, 300, 300], (ms) => WorkerPool.run(pool, ms), { concurrency: "unbounded" })
      expect(new Set(threads).size).toBe(1)
      expect((yield* WorkerPool.stats(pool)).started).toBe(1)
    }).pipe(Effect.scoped))

  it.live("recycles a thread after maxTasksPerWorker", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<null, number>({ filename: basic, name: "thread", maxWorkers: 1, minWorkers: 1, maxTasksPerWorker: 3 })
      const threads: Array<number> = []
      for (let i = 0; i < 7; i++) threads.push(yield* WorkerPool.run(pool, null))
      expect(new Set(threads.slice(0, 3)).size).toBe(1)
      expect(new Set(threads.slice(3, 6)).size).toBe(1)
      expect(threads[3]).not.toBe(threads[0])
      expect(threads[6]).not.toBe(threads[3])
      yield* until("the recycled threads exited", Effect.map(WorkerPool.stats(pool), (s) => s.exited === 2))
      expect(yield* WorkerPool.stats(pool)).toMatchObject({ recycles: 2, crashes: 0, completed: 7 })
    }).pipe(Effect.scoped))

  it.live("maxTasksPerWorker is the core's maxUses: a task whose input never left does not count", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, number>({ filename: basic, name: "thread", maxWorkers: 1, minWorkers: 1, maxTasksPerWorker: 2 })
      const first = yield* WorkerPool.run(pool, null)
      // a function cannot be cloned to the thread: TaskInputError, nothing was sent
      const refused = yield* Effect.flip(WorkerPool.run(pool, () => 1))
      expect(refused._tag).toBe("TaskInputError")
      const refusedAgain = yield* Effect.flip(WorkerPool.run(pool, Symbol("no")))
      expect(refusedAgain._tag).toBe("TaskInputError")
      // the second task that ran is the thread's second use: still the same thread, retired after it
      expect(yield* WorkerPool.run(pool, null)).toBe(first)
      const next = yield* WorkerPool.run(pool, null)
      expect(next).not.toBe(first)
      const stats = yield* WorkerPool.stats(pool)
      expect(stats).toMatchObject({ recycles: 1, crashes: 0, completed: 3, failed: 2 })
    }).pipe(Effect.scoped))

  it.live("the core's maxUses is refused, naming maxTasksPerWorker (piscina's name is the option)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(WorkerPool.make({ filename: basic, maxUses: 3 } as any)))
      expect(error).toBeInstanceOf(PoolConfigError)
      expect((error as PoolConfigError).option).toBe("maxUses")
      expect((error as PoolConfigError).reason).toContain("maxTasksPerWorker")
    }))

  it.live("recycles a thread whose heap passes maxHeapUsedBeforeRecycle", () =>
    Effect.gen(function*() {
      const file = workerFile(`
import { threadId } from "node:worker_threads"
const kept = []
export default (mb) => { kept.push(Buffer.alloc(0), new Array(mb * 1024 * 128).fill(1.5)); return threadId }
`)
      const pool = yield* WorkerPool.make<number, number>({ filename: file, maxWorkers: 1, maxHeapUsedBeforeRecycle: 64 * 1024 * 1024 })
      const first = yield* WorkerPool.run(pool, 1)
      expect(yield* WorkerPool.run(pool, 1)).toBe(first)
      const leaking = yield* WorkerPool.run(pool, 100) // ~100 MB kept: over the limit after this task
      expect(leaking).toBe(first)
      expect(yield* WorkerPool.run(pool, 1)).not.toBe(first)
      expect((yield* WorkerPool.stats(pool)).recycles).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("idle threads above minWorkers end after idleTimeout (TestClock)", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<[Int32Array, number], number>({ filename: basic, name: "meet", minWorkers: 1, maxWorkers: 3, idleTimeout: "30 seconds" })
      // three tasks that each hold their thread until all three run: three threads, whatever the load
      const met = new Int32Array(new SharedArrayBuffer(4))
      yield* Effect.forEach([1, 2, 3], () => WorkerPool.run(pool, [met, 3]), { concurrency: "unbounded" })
      expect((yield* WorkerPool.stats(pool)).workers).toBe(3)
      yield* TestClock.adjust("29 seconds")
      expect((yield* WorkerPool.stats(pool)).workers).toBe(3)
      yield* TestClock.adjust("2 seconds")
      yield* until("the idle threads above minWorkers ended", Effect.map(WorkerPool.stats(pool), (s) => s.workers === 1 && s.exited === 2))
      expect((yield* WorkerPool.stats(pool)).crashes).toBe(0)
    }).pipe(Effect.scoped))

  it.live("stats and metrics: tasks by outcome, threads, utilization", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<{ a: number; b: number }, number>({ filename: basic, poolName: "metered", maxWorkers: 2 })
      yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => WorkerPool.run(pool, { a: i, b: 0 }), { concurrency: 8 })
      const stats = yield* WorkerPool.stats(pool)
      expect(stats).toMatchObject({ name: "metered", completed: 50, running: 0, busy: 0 })
      expect(stats.idle).toBe(stats.workers)
      // as an exporter sees them: from the registry snapshot, by name and labels
      const metric = (name: string, tags: Record<string, string>) =>
        Effect.map(Metric.snapshot, (pairs) =>
          pairs.find((p) => p.id === name && Object.entries(tags).every(([k, v]) => p.attributes?.[k] === v))
            ?.state as unknown as { readonly value?: number; readonly count?: number } | undefined)
      expect((yield* metric("effect_pool_worker_tasks_total", { pool: "metered", outcome: "completed" }))?.count).toBe(50)
      expect((yield* metric("effect_pool_size", { pool: "metered" }))?.value).toBe(stats.workers)
      expect((yield* metric("effect_pool_worker_utilization", { pool: "metered" }))?.value).toBe(0)
      expect((yield* metric("effect_pool_worker_run_ms", { pool: "metered" }))?.count).toBeGreaterThan(0)
    }).pipe(Effect.scoped))

  it.live("bad options fail make with PoolConfigError naming the option as written", () =>
    Effect.gen(function*() {
      const cases: Array<[Partial<WorkerPool.Options>, string]> = [
        [{ maxWorkers: 0 }, "maxWorkers"],
        [{ minWorkers: 3, maxWorkers: 2 }, "minWorkers"],
        [{ concurrentTasksPerWorker: 0 }, "concurrentTasksPerWorker"],
        [{ maxQueue: -1 }, "maxQueue"],
        [{ taskTimeout: "-1 seconds" }, "taskTimeout"],
        [{ cancelGracePeriod: "soon" as any }, "cancelGracePeriod"],
        [{ maxTasksPerWorker: 0 }, "maxTasksPerWorker"],
        [{ filename: "" }, "filename"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(WorkerPool.make({ filename: basic, ...options })))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect((error as PoolConfigError).option).toBe(option)
      }
    }))

  it("make<typeof handler> reads the input and output types from the handler (checked by tsc)", () => {
    type Plain = (input: { a: number; b: number }, context: { readonly signal: AbortSignal }) => number
    type Async = (input: string) => Promise<{ digest: string }>
    type Effectful = (input: number) => Effect.Effect<Date, Error>
    const withSchemas = WorkerPool.handler({ input: Schema.Struct({ n: Schema.NumberFromString }), output: Schema.DateFromString }, ({ n }) => new Date(n))
    expectTypeOf<WorkerPool.InputOf<Plain>>().toEqualTypeOf<{ a: number; b: number }>()
    expectTypeOf<WorkerPool.OutputOf<Plain>>().toEqualTypeOf<number>()
    expectTypeOf<WorkerPool.OutputOf<Async>>().toEqualTypeOf<{ digest: string }>()
    expectTypeOf<WorkerPool.OutputOf<Effectful>>().toEqualTypeOf<Date>()
    expectTypeOf<WorkerPool.InputOf<typeof withSchemas>>().toEqualTypeOf<{ readonly n: number }>()
    expectTypeOf<WorkerPool.OutputOf<typeof withSchemas>>().toEqualTypeOf<Date>()
    // make<typeof import("./task.js").default> gives a pool of those types; make<I, O> as written
    expectTypeOf(WorkerPool.make<Plain>).returns.toEqualTypeOf<
      Effect.Effect<WorkerPool.WorkerPool<{ a: number; b: number }, number>, PoolConfigError | WorkerPool.MakeError, import("effect").Scope.Scope>
    >()
    expectTypeOf(WorkerPool.make<string, number>).returns.toEqualTypeOf<
      Effect.Effect<WorkerPool.WorkerPool<string, number>, PoolConfigError | WorkerPool.MakeError, import("effect").Scope.Scope>
    >()
  })

  it.live("layer and layerConfig provide a pool service", () =>
    Effect.gen(function*() {
      class Adder extends Context.Service<Adder, WorkerPool.WorkerPool<{ a: number; b: number }, number>>()("Adder") {}
      const viaLayer = yield* Effect.flatMap(Adder, (pool) => WorkerPool.run(pool, { a: 1, b: 1 })).pipe(
        Effect.provide(WorkerPool.layer(Adder, { filename: basic, maxWorkers: 1 }))
      )
      expect(viaLayer).toBe(2)
      const configured = WorkerPool.layerConfig(Adder, {
        filename: Config.String("WORKER_FILE"),
        maxWorkers: Config.Int("WORKER_MAX")
      })
      const viaConfig = yield* Effect.flatMap(Adder, (pool) => Effect.zip(WorkerPool.run(pool, { a: 2, b: 2 }), WorkerPool.stats(pool))).pipe(
        Effect.provide(configured),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { WORKER_FILE: basic, WORKER_MAX: "3" } })))
      )
      expect(viaConfig[0]).toBe(4)
      expect(viaConfig[1].pool.max).toBe(3)
      const missing = yield* Effect.result(Effect.flatMap(Adder, () => Effect.void).pipe(
        Effect.provide(configured),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))
      ))
      expect(Result.isFailure(missing) && missing.failure._tag).toBe("ConfigError")
    }))
})
