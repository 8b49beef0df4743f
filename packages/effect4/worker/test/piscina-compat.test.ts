/** Issue 18: piscina worker files run unchanged (CommonJS exports, Piscina.move, isWorkerThread/workerData), make waits for minWorkers. */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Option } from "effect"
import { workerFile } from "./helpers.js"

describe("piscina worker files", () => {
  it.live("CommonJS named exports: module.exports = { run, getLog } and a.a = a; a.b = b", () =>
    Effect.gen(function*() {
      const object = workerFile(`
const log = []
function run(x) { log.push(x); return x * 2 }
function getLog() { return log }
module.exports = { run, getLog }
`, "cjs")
      const pool = yield* WorkerPool.make<number, unknown>({ filename: object, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool, 3, { name: "run" })).toBe(6)
      expect(yield* WorkerPool.run(pool, 0, { name: "getLog" })).toEqual([3])
      // only named exports, no default: make succeeds, a task naming the missing default fails typed
      const missing = yield* Effect.exit(WorkerPool.run(pool, 1))
      expect(Exit.isFailure(missing) && (Option.getOrUndefined(Cause.findErrorOption(missing.cause)) as any)?._tag).toBe("TaskFailedError")
      const dynamic = workerFile(`
function a(x) { return "a" + x }
function b(x) { return "b" + x }
a.a = a
a.b = b
module.exports = a
`, "cjs")
      const pool2 = yield* WorkerPool.make<string, string>({ filename: dynamic, maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool2, "1")).toBe("a1")
      expect(yield* WorkerPool.run(pool2, "1", { name: "b" })).toBe("b1")
      // exports assigned in a loop (nothing Node can detect statically)
      const loop = workerFile(`for (const k of ["x", "y"]) exports[k] = (n) => k + n`, "cjs")
      const pool3 = yield* WorkerPool.make<string, string>({ filename: loop, name: "y", maxWorkers: 1 })
      expect(yield* WorkerPool.run(pool3, "!")).toBe("y!")
      expect(yield* WorkerPool.run(pool3, "!", { name: "x" })).toBe("x!")
    }).pipe(Effect.scoped))

  it.live("an explicit name that the module lacks fails make with WorkerStartupError", () =>
    Effect.gen(function*() {
      const file = workerFile(`module.exports = { run: (x) => x }`, "cjs")
      const exit = yield* Effect.exit(Effect.scoped(WorkerPool.make({ filename: file, name: "nope", maxWorkers: 1, minWorkers: 1 })))
      expect(Exit.isFailure(exit) && (Option.getOrUndefined(Cause.findErrorOption(exit.cause)) as any)?._tag).toBe("WorkerStartupError")
    }))

  it.live("Piscina.move(value) as a return value is transferred; isWorkerThread and workerData are set", () =>
    Effect.gen(function*() {
      const file = workerFile(`
const Piscina = require("piscina")
module.exports = {
  move: (n) => Piscina.move(new Uint8Array(n).fill(7).buffer),
  moveView: (n) => Piscina.move(new Uint8Array(n).fill(3)),
  state: () => ({ isWorkerThread: Piscina.isWorkerThread, workerData: Piscina.workerData, named: require("piscina").workerData })
}
`, "cjs")
      const pool = yield* WorkerPool.make<number, any>({ filename: file, name: "move", maxWorkers: 1, workerData: { hello: 1 } })
      const buffer = yield* WorkerPool.run(pool, 4)
      expect(buffer).toBeInstanceOf(ArrayBuffer)
      expect([...new Uint8Array(buffer)]).toEqual([7, 7, 7, 7])
      const view = yield* WorkerPool.run(pool, 2, { name: "moveView" })
      expect([...view]).toEqual([3, 3])
      const state = yield* WorkerPool.run(pool, 0, { name: "state" })
      expect(state.isWorkerThread).toBe(true)
      expect(state.workerData).toEqual({ hello: 1 })
      const esm = workerFile(`
import Piscina from "piscina"
export default () => ({ isWorkerThread: Piscina.isWorkerThread, workerData: Piscina.workerData })
`)
      const esmPool = yield* WorkerPool.make<number, any>({ filename: esm, maxWorkers: 1, workerData: [1] })
      expect(yield* WorkerPool.run(esmPool, 0)).toEqual({ isWorkerThread: true, workerData: [1] })
    }).pipe(Effect.scoped))

  it.live("make returns when all minWorkers threads are ready", () =>
    Effect.gen(function*() {
      const file = workerFile(`await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))\nexport default (x) => x`)
      const pool = yield* WorkerPool.make<number, number>({ filename: file, minWorkers: 3, maxWorkers: 3 })
      const stats = yield* WorkerPool.stats(pool)
      expect(stats.workers).toBe(3)
      expect(stats.idle).toBe(3)
    }).pipe(Effect.scoped))

  it.live("user argv reaches the threads' process.argv (settings travel on the port)", () =>
    Effect.gen(function*() {
      const file = workerFile(`export default () => process.argv.slice(2)`)
      const pool = yield* WorkerPool.make<number, Array<string>>({ filename: file, maxWorkers: 1, argv: ["--a", "b"] })
      expect(yield* WorkerPool.run(pool, 0)).toEqual(["--a", "b"])
    }).pipe(Effect.scoped))
})
