/**
 * The worker thread and its runner, on real threads and no Effect runtime: the runner is found
 * by path next to the built thread module (the package's dist, as a kind loads it), runs plain
 * handlers itself and hands Effects and marked handlers to the effects module its settings
 * name (here a plain stand-in that runs `{ "~effect/Effect": run }` objects).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { type Exited, type StartupFailure, taskId, Thread } from "@effect-pool/engine/worker/thread"
import type { ReplyMessage, RunnerSettings } from "@effect-pool/engine/worker/protocol"
import { afterAll, describe, expect, it } from "vitest"

const dir = mkdtempSync(join(tmpdir(), "engine-thread-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const file = (source: string, extension = "mjs"): string => {
  const path = join(dir, `f${files++}.${extension}`)
  writeFileSync(path, source)
  return pathToFileURL(path).href
}

const effects = file(`
export const runTask = (effect) => {
  let stop
  const promise = new Promise((resolve, reject) => {
    stop = () => reject(new Error("interrupted"))
    Promise.resolve().then(() => effect["~effect/Effect"]()).then(resolve, reject)
  })
  promise.interrupt = () => stop()
  return promise
}
export const make = async (definition) => {
  if (definition.failStart) throw new Error("layer failed")
  return (input, context) => runTask({ "~effect/Effect": () => definition.f(input, context) })
}
`)

const handlers = file(`
export default (n) => n * n
export const fails = () => { const e = new TypeError("nope"); e.code = 42; throw e }
export const crash = () => process.exit(3)
export const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms }
export const effect = (n) => ({ "~effect/Effect": () => n + 1 })
export const wait = (_, { signal }) => new Promise((resolve) => signal.aborted ? resolve("aborted") : signal.addEventListener("abort", () => resolve("aborted")))
export const marked = { [Symbol.for("@effect-pool/worker/Handler")]: Symbol.for("@effect-pool/worker/Handler"), f: (n) => n * 10 }
export const badStart = { [Symbol.for("@effect-pool/worker/Handler")]: Symbol.for("@effect-pool/worker/Handler"), failStart: true, f: () => 0 }
`)

const settings = (module: string, name = "default", explicitName = false, park?: boolean): RunnerSettings => ({ module, name, explicitName, reportHeap: true, effects, park })

const start = (module: string, name?: string, explicitName?: boolean, startupTimeout = 30_000, park?: boolean) =>
  new Promise<{ thread: Thread; failure: StartupFailure | undefined }>((resolve) => {
    const thread: Thread = new Thread(
      { settings: settings(module, name, explicitName, park), workerData: undefined, env: undefined, argv: undefined, execArgv: undefined, resourceLimits: undefined, startupTimeout },
      (failure) => resolve({ thread, failure })
    )
  })

const run = (thread: Thread, input: unknown, name?: string) =>
  new Promise<{ reply: ReplyMessage | undefined; exited: Exited | undefined }>((resolve) => {
    thread.post({ id: taskId(), settle: (reply, exited) => resolve({ reply, exited }) }, input, name, undefined)
  })

describe("Thread + runner", () => {
  it("runs plain, failing, Effect and marked handlers; reports the heap; ends on terminate", async () => {
    const { thread, failure } = await start(handlers)
    expect(failure).toBeUndefined()
    try {
      expect((await run(thread, 7)).reply).toMatchObject({ status: 0, value: 49 })
      expect(thread.heapUsed).toBeGreaterThan(0)
      const failed = (await run(thread, 0, "fails")).reply
      expect(failed).toMatchObject({ status: 1, error: { name: "TypeError", message: "nope", fields: { code: 42 } } })
      expect((await run(thread, 1, "effect")).reply).toMatchObject({ status: 0, value: 2 })
      expect((await run(thread, 2, "marked")).reply).toMatchObject({ status: 0, value: 20 })
      expect((await run(thread, 0, "badStart")).reply).toMatchObject({ status: 1, error: { message: "layer failed" } })
      expect((await run(thread, 0, "missing")).reply?.error?.message).toContain(`no handler named "missing"`)
      expect(thread.tasks.size).toBe(0)
    } finally {
      await thread.terminate("done")
    }
    expect(thread.exited).toBe(true)
    expect(thread.exitInfo?.terminatedBy).toBe("done")
  })

  it("cancel aborts the task's signal and the reply says cancelled", async () => {
    const { thread } = await start(handlers)
    try {
      const id = taskId()
      const settled = new Promise<ReplyMessage | undefined>((resolve) => thread.post({ id, settle: (reply) => resolve(reply) }, undefined, "wait", undefined))
      thread.cancel(id)
      expect((await settled)?.status).toBe(2)
    } finally {
      await thread.terminate("done")
    }
  })

  it("a crash settles the tasks on the thread with how it exited", async () => {
    const { thread } = await start(handlers)
    const exits: Array<Exited> = []
    thread.onExit = (_, exited) => exits.push(exited)
    const { reply, exited } = await run(thread, 0, "crash")
    expect(reply).toBeUndefined()
    expect(exited).toMatchObject({ exitCode: 3, terminatedBy: undefined })
    expect(exits).toHaveLength(1)
  })

  it("input that cannot be cloned throws at post and leaves nothing behind", async () => {
    const { thread } = await start(handlers)
    try {
      expect(() => thread.post({ id: taskId(), settle: () => undefined }, () => 1, undefined, undefined)).toThrow()
      expect(thread.tasks.size).toBe(0)
      expect((await run(thread, 3)).reply?.value).toBe(9)
    } finally {
      await thread.terminate("done")
    }
  })

  it("start-up failures: a module that does not load, a named export missing, a marked handler whose start fails", async () => {
    const broken = await start(file(`throw new Error("load failed")`))
    expect(broken.failure?.reason).toBe("its module failed to load")
    expect(broken.failure?.error?.message).toBe("load failed")
    const missing = await start(handlers, "nothere", true)
    expect(missing.failure?.error?.message).toContain(`no handler named "nothere"`)
    const badStart = await start(handlers, "badStart", true)
    expect(badStart.failure?.error?.message).toBe("layer failed")
    // a module that is missing only some export still starts when the name was not given
    const lenient = await start(handlers, "nothere", false)
    expect(lenient.failure).toBeUndefined()
    await lenient.thread.terminate("done")
  })

  it("a thread that does not report ready within startupTimeout fails to start", async () => {
    const slow = await start(file(`await new Promise(() => { setInterval(() => {}, 1000) })`), "default", false, 50)
    expect(slow.failure?.reason).toBe("did not start within 50 ms")
  })

  it("parking: a task posted while the thread is busy is taken parked (counted); with park: false never", async () => {
    // the second task is posted while the first busy-waits: when the first ends the thread has
    // nothing running, parks, finds the second already posted and takes it without its event loop
    const scenario = async (park: boolean | undefined) => {
      const { thread } = await start(handlers, "default", false, 30_000, park)
      try {
        for (let round = 0; round < 3; round++) {
          const [a, b] = await Promise.all([run(thread, 30, "busy"), run(thread, 2)])
          expect(a.reply?.value).toBe(30)
          expect(b.reply?.value).toBe(4)
        }
        return thread.parked
      } finally {
        await thread.terminate("done")
      }
    }
    expect(await scenario(undefined)).toBeGreaterThanOrEqual(3)
    expect(await scenario(true)).toBeGreaterThanOrEqual(3)
    expect(await scenario(false)).toBe(0)
  })
})
