/**
 * How idle threads wait (issue 21): `atomics: "sync"` (the default) parks an idle thread in
 * `Atomics.wait` so that a task posted meanwhile is taken without its event loop —
 * `Stats.parked` counts those tasks; `"disabled"` (and `"async"`, piscina 4's
 * `useAtomics: false`) never parks, nor does any mode with piscina's `PISCINA_DISABLE_ATOMICS=1` in
 * the threads' environment; a bad value is a `PoolConfigError` naming `atomics`.
 */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Effect, Either, Fiber } from "effect"
import { until, workerFile } from "./helpers.js"

const file = workerFile(`
export default (x) => x * 2
export const held = (sab) => {
  const flag = new Int32Array(sab)
  Atomics.store(flag, 0, 1)
  while (Atomics.load(flag, 0) !== 2);
  return 30
}
export const crash = () => process.exit(1)
// a side effect left to the microtask queue: after an await, and in a promise callback
export const later = (sab) => {
  const count = new Int32Array(sab)
  ;(async () => {
    await null
    Atomics.add(count, 0, 1)
  })()
  Promise.resolve().then(() => Atomics.add(count, 1, 1))
  return 7
}
`)

/**
 * One round on a one-thread pool: a task that holds its thread until the test releases it, and a
 * second task posted while it runs. The release waits until both are on the thread (no timing
 * margin), so when the first ends the thread has nothing running and finds the second already
 * posted — a parking thread takes it from its wait, one that does not park through its event loop.
 */
const heldThenOne = (pool: WorkerPool.WorkerPool<unknown, number>, value: number) =>
  Effect.gen(function*() {
    const flag = new Int32Array(new SharedArrayBuffer(4))
    const held = yield* Effect.fork(WorkerPool.run(pool, flag.buffer, { name: "held" }))
    yield* until("the held task runs", () => Atomics.load(flag, 0) === 1)
    const second = yield* Effect.fork(WorkerPool.run(pool, value))
    yield* until("the second task is on the thread", Effect.map(WorkerPool.stats(pool), (s) => s.running === 2))
    Atomics.store(flag, 0, 2)
    expect(yield* Fiber.join(held)).toBe(30)
    expect(yield* Fiber.join(second)).toBe(value * 2)
  })

/** `Stats.parked` after three rounds of `heldThenOne`. */
const parkedAfterBusyRounds = (options: Pick<WorkerPool.Options, "atomics" | "useAtomics" | "env">) =>
  Effect.gen(function*() {
    const pool = yield* WorkerPool.make<unknown, number>({ filename: file, minWorkers: 1, maxWorkers: 1, concurrentTasksPerWorker: 2, ...options })
    for (let round = 0; round < 3; round++) yield* heldThenOne(pool, round)
    const stats = yield* WorkerPool.stats(pool)
    expect(stats.completed).toBe(6)
    return stats.parked
  }).pipe(Effect.scoped)

describe("WorkerPool atomics (how idle threads wait)", () => {
  it.live("sync (the default): a task posted while its thread is busy is taken parked, and counted", () =>
    Effect.gen(function*() {
      expect(yield* parkedAfterBusyRounds({})).toBeGreaterThanOrEqual(3)
      expect(yield* parkedAfterBusyRounds({ atomics: "sync" })).toBeGreaterThanOrEqual(3)
      expect(yield* parkedAfterBusyRounds({ useAtomics: true })).toBeGreaterThanOrEqual(3)
    }))

  it.live("disabled, async and useAtomics: false never park: the same tasks all come through the event loop", () =>
    Effect.gen(function*() {
      expect(yield* parkedAfterBusyRounds({ atomics: "disabled" })).toBe(0)
      expect(yield* parkedAfterBusyRounds({ atomics: "async" })).toBe(0)
      expect(yield* parkedAfterBusyRounds({ useAtomics: false })).toBe(0)
      expect(yield* parkedAfterBusyRounds({ atomics: "disabled", useAtomics: false })).toBe(0)
    }))

  it.live("piscina's PISCINA_DISABLE_ATOMICS=1 in the threads' environment never parks, whatever atomics says", () =>
    Effect.gen(function*() {
      // the environment the threads get: the pool's env option
      expect(yield* parkedAfterBusyRounds({ env: { PISCINA_DISABLE_ATOMICS: "1" } })).toBe(0)
      expect(yield* parkedAfterBusyRounds({ atomics: "sync", env: { PISCINA_DISABLE_ATOMICS: "1" } })).toBe(0)
      expect(yield* parkedAfterBusyRounds({ useAtomics: true, env: { PISCINA_DISABLE_ATOMICS: 1 as unknown as string } })).toBe(0)
      // piscina's other switch: "sync" becomes "async" (which waits in the event loop here)
      expect(yield* parkedAfterBusyRounds({ env: { PISCINA_ENABLE_ASYNC_ATOMICS: "1" } })).toBe(0)
      // any other value is not piscina's "on"
      expect(yield* parkedAfterBusyRounds({ env: { PISCINA_DISABLE_ATOMICS: "true" } })).toBeGreaterThanOrEqual(3)
      // else the process's (which the threads inherit), unless an env option replaces it
      const before = process.env.PISCINA_DISABLE_ATOMICS
      yield* Effect.acquireUseRelease(
        Effect.sync(() => {
          process.env.PISCINA_DISABLE_ATOMICS = "1"
        }),
        () =>
          Effect.gen(function*() {
            expect(yield* parkedAfterBusyRounds({})).toBe(0)
            expect(yield* parkedAfterBusyRounds({ atomics: "sync" })).toBe(0)
            expect(yield* parkedAfterBusyRounds({ env: {} })).toBeGreaterThanOrEqual(3)
          }),
        () =>
          Effect.sync(() => {
            if (before === undefined) delete process.env.PISCINA_DISABLE_ATOMICS
            else process.env.PISCINA_DISABLE_ATOMICS = before
          })
      )
    }))

  it.live("promise callbacks a task left behind run before its result is posted and before its thread parks (as piscina's)", () =>
    Effect.gen(function*() {
      // each result arrives after what its task queued ran: no wait for the park to time out
      // nor for the next task (with the side effects left until the thread parks again or leaves
      // its wait, the counts lag behind the results)
      for (const atomics of ["sync", "disabled"] as const) {
        const pool = yield* WorkerPool.make<unknown, number>({ filename: file, minWorkers: 1, maxWorkers: 1, atomics })
        const count = new Int32Array(new SharedArrayBuffer(8))
        for (let i = 1; i <= 20; i++) {
          expect(yield* WorkerPool.run(pool, count.buffer, { name: "later" })).toBe(7)
          expect([atomics, Atomics.load(count, 0), Atomics.load(count, 1)]).toEqual([atomics, i, i])
        }
        if (atomics === "sync") expect((yield* WorkerPool.stats(pool)).parked).toBeGreaterThan(0)
      }
    }).pipe(Effect.scoped))

  it.live("a thread that crashed keeps its parked tasks in the count", () =>
    Effect.gen(function*() {
      const pool = yield* WorkerPool.make<unknown, number>({ filename: file, minWorkers: 1, maxWorkers: 1, concurrentTasksPerWorker: 2 })
      yield* heldThenOne(pool, 1)
      const before = (yield* WorkerPool.stats(pool)).parked
      expect(before).toBeGreaterThanOrEqual(1)
      yield* Effect.either(WorkerPool.run(pool, 0, { name: "crash" }))
      expect(yield* WorkerPool.run(pool, 5)).toBe(10) // on a new thread
      const after = yield* WorkerPool.stats(pool)
      expect(after.crashes).toBe(1)
      expect(after.parked).toBeGreaterThanOrEqual(before)
    }).pipe(Effect.scoped))

  it.effect("hostile values: PoolConfigError naming atomics or useAtomics", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string, string]> = [
        [{ atomics: "Sync" }, "atomics", "must be one of \"sync\", \"async\", \"disabled\""],
        [{ atomics: false }, "atomics", "must be one of"],
        [{ atomics: 1 }, "atomics", "must be one of"],
        [{ useAtomics: "no" }, "useAtomics", "must be true or false"],
        [{ atomics: "disabled", useAtomics: true }, "useAtomics", "disagrees"],
        [{ atomics: "sync", useAtomics: false }, "useAtomics", "disagrees"]
      ]
      for (const [options, option, text] of cases) {
        const result = yield* Effect.scoped(Effect.either(WorkerPool.make({ filename: file, minWorkers: 0, maxWorkers: 1, ...options } as any)))
        if (Either.isRight(result)) throw new Error(`${JSON.stringify(options)} was accepted`)
        expect(result.left._tag).toBe("PoolConfigError")
        expect((result.left as any).option).toBe(option)
        expect(result.left.message).toContain(text)
      }
    }))
})
