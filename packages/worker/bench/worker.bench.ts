/**
 * @effect-pool/worker against piscina 5, tinypool 2 and @effect/platform's Worker.makePool, in one
 * process, the same number of threads (2 on the reference machine), contenders' order rotated,
 * best of BENCH_ROUNDS rounds:
 * - tiny task (`a + b`), 20k tasks, 64 in flight;
 * - ~1 ms CPU task, 2k tasks, 64 in flight;
 * - single-task round trip (1 in flight), 5k tasks.
 * Run with `npm run bench -w @effect-pool/worker`.
 */
import { Worker as EffectWorker } from "@effect/platform"
import { NodeWorker } from "@effect/platform-node"
import { WorkerPool } from "@effect-pool/worker"
import { benchSettings, benchTasksPath, collectGarbage, effectLoop, promiseLoop, rotated, writeResults } from "@effect-pool/testing"
import { Effect, Exit, Scope } from "effect"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import * as WT from "node:worker_threads"
import { Piscina } from "piscina"
import { Tinypool } from "tinypool"

const THREADS = Math.min(2, availableParallelism())
const tasksFile = benchTasksPath // the test kit's, one file for both editions
const effectTasksFile = fileURLToPath(new URL("./workers/effect-tasks.mjs", import.meta.url))

interface Job {
  readonly name: string
  readonly ops: number
  readonly concurrency: number
  readonly input: (i: number) => Record<string, number>
  readonly handler: "default" | "cpu"
}

const scale = benchSettings.scale
const jobs: ReadonlyArray<Job> = [
  { name: "tiny task, 64 in flight", ops: Math.round(20_000 * scale), concurrency: 64, input: (i) => ({ a: i, b: 1 }), handler: "default" },
  { name: "1 ms CPU task, 64 in flight", ops: Math.round(2_000 * scale), concurrency: 64, input: () => ({ ms: 1 }), handler: "cpu" },
  { name: "round trip, 1 in flight", ops: Math.round(5_000 * scale), concurrency: 1, input: (i) => ({ a: i, b: 1 }), handler: "default" }
]

interface Contender {
  readonly name: string
  readonly run: (job: Job) => Promise<void>
  readonly close: () => Promise<void>
}

/** piscina and tinypool share an API: the same file, the same options, `run(input, { name })`. */
const promisePool = (name: string, pool: { run: (input: unknown, options: { name: string }) => Promise<unknown>; destroy: () => Promise<void> }): Contender => ({
  name,
  run: (job) => {
    let i = 0
    return promiseLoop(job.ops, job.concurrency, () => pool.run(job.input(i++), { name: job.handler }))
  },
  close: () => pool.destroy()
})

const piscina = () => promisePool("piscina 5", new Piscina({ filename: tasksFile, minThreads: THREADS, maxThreads: THREADS }))
const tinypool = () => promisePool("tinypool 2", new Tinypool({ filename: tasksFile, minThreads: THREADS, maxThreads: THREADS }))

/** An Effect contender: a pool built in a scope, a task as an Effect, run by `effectLoop`. */
const effectContender = async (
  name: string,
  build: Effect.Effect<(input: Record<string, number>, handler: Job["handler"]) => Effect.Effect<unknown, unknown>, unknown, Scope.Scope>
): Promise<Contender> => {
  const scope = Effect.runSync(Scope.make())
  const task = await Effect.runPromise(Scope.extend(build, scope))
  return {
    name,
    run: (job) => {
      let i = 0
      return Effect.runPromise(effectLoop(job.ops, job.concurrency, () => task(job.input(i++), job.handler)))
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const ours = () =>
  effectContender(
    "ours: WorkerPool",
    Effect.map(
      WorkerPool.make<Record<string, number>, unknown>({ filename: tasksFile, minWorkers: THREADS, maxWorkers: THREADS }),
      (pool) => (input, handler) => WorkerPool.run(pool, input, handler === "default" ? undefined : { name: handler })
    )
  )

const effectMakePool = () =>
  effectContender(
    "@effect/platform Worker.makePool",
    Effect.map(
      EffectWorker.makePool<Record<string, number>, unknown, never>({ size: THREADS }).pipe(
        Effect.provide(NodeWorker.layer(() => new WT.Worker(effectTasksFile)))
      ),
      (pool) => (input) => pool.executeEffect(input)
    )
  )

const main = async () => {
  const contenders = [piscina(), tinypool(), await ours(), await effectMakePool()]
  // warm up every contender (JIT, threads started)
  for (const c of contenders) await c.run({ ...jobs[0], ops: 2_000 })
  const best = new Map<string, number>()
  for (let round = 0; round < benchSettings.rounds; round++) {
    for (const job of jobs) {
      for (const c of rotated(contenders, round)) {
        // makePool is ~30× slower: give it a tenth of the work, rates stay comparable
        const ops = c.name.startsWith("@effect/platform") ? Math.max(200, Math.round(job.ops / 10)) : job.ops
        collectGarbage()
        const started = performance.now()
        await c.run({ ...job, ops })
        const rate = ops / ((performance.now() - started) / 1000)
        const key = `${job.name}|${c.name}`
        best.set(key, Math.max(best.get(key) ?? 0, rate))
      }
    }
  }
  for (const c of contenders) await c.close()

  const results: Array<Record<string, unknown>> = []
  for (const job of jobs) {
    const base = best.get(`${job.name}|piscina 5`)!
    console.log(`\n${job.name} (${THREADS} threads)`)
    for (const c of contenders) {
      const rate = best.get(`${job.name}|${c.name}`)!
      const extra = job.concurrency === 1 ? `  ${(1e6 / rate).toFixed(1)} µs/task` : ""
      console.log(`  ${c.name.padEnd(34)} ${Math.round(rate).toString().padStart(8)} tasks/s  ${(rate / base).toFixed(2)}× piscina${extra}`)
      results.push({ job: job.name, contender: c.name, tasksPerSecond: Math.round(rate), vsPiscina: Number((rate / base).toFixed(3)) })
    }
  }
  const ratio = (job: number, name: string) => best.get(`${jobs[job].name}|ours: WorkerPool`)! / best.get(`${jobs[job].name}|${name}`)!
  const targets = {
    "tiny task ≥ 0.9× piscina (aim 1.0)": ratio(0, "piscina 5"),
    "1 ms CPU task ≥ 0.95× piscina": ratio(1, "piscina 5"),
    "≥ 10× Worker.makePool (tiny task)": ratio(0, "@effect/platform Worker.makePool"),
    "round trip ≤ 1.3× piscina's time": 1 / ratio(2, "piscina 5")
  }
  console.log("\ntargets")
  for (const [target, value] of Object.entries(targets)) console.log(`  ${target.padEnd(40)} ${value.toFixed(2)}`)
  writeResults(fileURLToPath(new URL("./results/worker.json", import.meta.url)), { threads: THREADS, rounds: benchSettings.rounds, results, targets })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
