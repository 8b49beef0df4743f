/**
 * Property: random tasks that succeed, fail, crash, hang or get interrupted, on random pool
 * sizes — every task ends exactly once with an outcome its kind allows, the counters add up,
 * and after close no thread is left.
 */
import { describe, expect, it } from "@effect/vitest"
import { WorkerPool } from "@effect-pool/worker"
import { Cause, Effect, Exit, Fiber, Scope } from "effect"
import fc from "fast-check"
import { until, workerFile } from "./helpers.js"

const file = workerFile(`
export default ({ kind, ms }, { signal }) => {
  switch (kind) {
    case "succeed": return new Promise((resolve) => setTimeout(() => resolve(ms), ms))
    case "fail": throw new Error("failed on purpose")
    case "crash": process.exit(7)
    case "hang": for (;;) {}
    case "interrupt": return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 60_000)
      signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("aborted")) })
    })
  }
}
`)

type Kind = "succeed" | "fail" | "crash" | "hang" | "interrupt"
const kinds: ReadonlyArray<Kind> = ["succeed", "fail", "crash", "hang", "interrupt"]

/** What a task of each kind may end with (a crash or a terminated hang also ends its thread's other tasks). */
const allowed: Record<Kind, ReadonlyArray<string>> = {
  succeed: ["Success"],
  fail: ["TaskFailedError"],
  crash: ["WorkerCrashedError"],
  hang: ["TaskTimeoutError"],
  interrupt: ["Interrupted"]
}

const outcomeOf = (exit: Exit.Exit<unknown, { readonly _tag: string }>): string => {
  if (Exit.isSuccess(exit)) return "Success"
  if (Cause.hasInterruptsOnly(exit.cause)) return "Interrupted"
  const failure = Cause.findErrorOption(exit.cause)
  return failure._tag === "Some" ? failure.value._tag : `Defect: ${Cause.pretty(exit.cause)}`
}

describe("WorkerPool: random interleavings (property)", () => {
  it.live("every task ends once, as its kind allows; counters add up; no thread is left after close", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 2 }),
          fc.array(fc.record({ kind: fc.constantFrom(...kinds), ms: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 8 }),
          (maxWorkers, concurrency, tasks) =>
            Effect.runPromise(Effect.gen(function*() {
              const scope = yield* Scope.make()
              const pool = yield* Scope.provide(WorkerPool.make<{ kind: Kind; ms: number }, unknown>({
                filename: file,
                minWorkers: 0,
                maxWorkers,
                concurrentTasksPerWorker: concurrency,
                taskTimeout: "1 second", // a hang is cut off here; a short task must never reach it, even on a busy machine
                cancelGracePeriod: "50 millis"
              }), scope)
              const fibers = yield* Effect.forEach(tasks, (task) => Effect.forkChild(WorkerPool.run(pool, task)))
              // interrupt the "interrupt" tasks once they are on a thread (or still queued)
              yield* Effect.forEach(tasks, (task, i) =>
                task.kind === "interrupt"
                  ? Effect.andThen(Effect.promise(() => new Promise((r) => setTimeout(r, 20))), Fiber.interrupt(fibers[i]))
                  : Effect.void)
              const exits = yield* Effect.forEach(fibers, Fiber.await)
              const destructive = tasks.some((t) => t.kind === "crash" || t.kind === "hang")
              exits.forEach((exit, i) => {
                const outcome = outcomeOf(exit as Exit.Exit<unknown, { readonly _tag: string }>)
                const ok = allowed[tasks[i].kind].includes(outcome) ||
                  // a task sharing a thread with one that crashed ends with it, and one sharing a
                  // thread with a task that never yields cannot run either: it times out
                  (destructive && concurrency > 1 && (outcome === "WorkerCrashedError" || outcome === "TaskTimeoutError"))
                if (!ok) throw new Error(`task ${i} (${tasks[i].kind}) ended with ${outcome}`)
              })
              // a cancelled task's thread lets go of it (or is terminated) after its caller has left
              yield* until("threads let go of every task", Effect.map(WorkerPool.stats(pool), (s) => s.running === 0))
              const stats = yield* WorkerPool.stats(pool)
              expect(stats.queued).toBe(0)
              expect(stats.completed + stats.failed + stats.cancelled).toBe(tasks.length)
              // a crash task that ran (and was not stuck behind a spinning one) ended its thread: a crash
              const ranAndCrashed = exits.filter((exit) => {
                const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
                return failure?._tag === "Some" && failure.value._tag === "WorkerCrashedError" && failure.value.terminatedBy === undefined
              }).length
              expect(stats.crashes).toBeGreaterThanOrEqual(Math.min(1, ranAndCrashed))
              yield* Scope.close(scope, Exit.void)
              yield* until("every thread exited", Effect.map(WorkerPool.stats(pool), (s) => s.exited === s.started))
              expect((yield* WorkerPool.stats(pool)).workers).toBe(0)
            }))
        ),
        { numRuns: 15 }
      )
    ), 120_000)
})
