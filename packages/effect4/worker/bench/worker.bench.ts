/**
 * @effect-pool/worker (Effect 4 edition) against piscina 5 and Effect 4's own worker pool
 * (`RpcClient.layerProtocolWorker` from `effect/rpc` with `@effect/platform-node`'s NodeWorker),
 * in one process, the same number of threads (2 on the reference machine), contenders' order
 * rotated each round; the figure is the median of the same-round ratios, with their spread:
 * - tiny task (`a + b`), 20k tasks, 64 in flight;
 * - ~1 ms CPU task, 2k tasks, 64 in flight;
 * - single-task round trip (1 in flight), 5k tasks.
 * Run with `npm run bench -w @effect-pool/worker` in packages/effect4.
 */
import { NodeWorker } from "@effect/platform-node"
import { WorkerPool } from "@effect-pool/worker"
import { benchSettings, benchTasksPath, collectGarbage, effectLoop, pairedRatio, promiseLoop, rotated, writeResults } from "@effect-pool/testing-effect4"
import { Effect, Exit, Layer, Scope } from "effect"
import { RpcClient } from "effect/rpc"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import * as WT from "node:worker_threads"
import { Piscina } from "piscina"
// @ts-expect-error: a plain .mjs module (the worker's RpcGroup), no declarations
import { Tasks } from "./workers/rpc-group.mjs"

const THREADS = Math.min(2, availableParallelism())
const tasksFile = benchTasksPath // the test kit's, one file for both editions
const rpcTasksFile = fileURLToPath(new URL("./workers/rpc-tasks.mjs", import.meta.url))

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
  /** Share of a job's ops it gets (a slow contender runs less; rates stay comparable). */
  readonly share: number
  readonly run: (job: Job, ops: number) => Promise<void>
  readonly close: () => Promise<void>
}

const piscina = (): Contender => {
  const pool = new Piscina({ filename: tasksFile, minThreads: THREADS, maxThreads: THREADS })
  return {
    name: "piscina 5",
    share: 1,
    run: (job, ops) => {
      let i = 0
      return promiseLoop(ops, job.concurrency, () => pool.run(job.input(i++), { name: job.handler }))
    },
    close: () => pool.destroy()
  }
}

/** An Effect contender: a pool built in a scope, a task as an Effect, run by `effectLoop`. */
const effectContender = async (
  name: string,
  share: number,
  build: Effect.Effect<(input: Record<string, number>, handler: Job["handler"]) => Effect.Effect<unknown, unknown>, unknown, Scope.Scope>
): Promise<Contender> => {
  const scope = Effect.runSync(Scope.make())
  const task = await Effect.runPromise(Scope.provide(build, scope))
  return {
    name,
    share,
    run: (job, ops) => {
      let i = 0
      return Effect.runPromise(effectLoop(ops, job.concurrency, () => task(job.input(i++), job.handler)))
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const ours = () =>
  effectContender(
    "ours: WorkerPool",
    1,
    Effect.map(
      WorkerPool.make<Record<string, number>, unknown>({ filename: tasksFile, minWorkers: THREADS, maxWorkers: THREADS }),
      (pool) => (input, handler) => WorkerPool.run(pool, input, handler === "default" ? undefined : { name: handler })
    )
  )

const rpcWorkers = () =>
  effectContender(
    "effect/rpc layerProtocolWorker",
    0.1,
    Effect.map(
      // the protocol (its workers) built in the contender's scope: Effect.provide(layer) would
      // close it when `make` returns
      Effect.flatMap(
        Layer.build(RpcClient.layerProtocolWorker({ size: THREADS }).pipe(
          Layer.provide(NodeWorker.layer(() => new WT.Worker(rpcTasksFile)))
        )),
        (context) => Effect.provide(RpcClient.make(Tasks), context)
      ) as Effect.Effect<any, unknown, Scope.Scope>,
      (client: any) => (input, handler) => handler === "default" ? client.Add(input) : client.Cpu(input)
    )
  )

const main = async () => {
  const contenders = [piscina(), await ours(), await rpcWorkers()]
  // warm up every contender (JIT, threads started)
  for (const c of contenders) await c.run(jobs[0], Math.round(2_000 * c.share))
  const rates = new Map<string, Array<number>>()
  for (let round = 0; round < benchSettings.rounds; round++) {
    for (const job of jobs) {
      for (const c of rotated(contenders, round)) {
        const ops = Math.max(200, Math.round(job.ops * c.share))
        collectGarbage()
        const started = performance.now()
        await c.run(job, ops)
        const rate = ops / ((performance.now() - started) / 1000)
        const key = `${job.name}|${c.name}`
        rates.set(key, [...(rates.get(key) ?? []), rate])
      }
    }
  }
  for (const c of contenders) await c.close()

  const results: Array<Record<string, unknown>> = []
  const ratio = (job: Job, a: string, b: string) => pairedRatio(rates.get(`${job.name}|${a}`)!, rates.get(`${job.name}|${b}`)!)
  const show = (r: { median: number; low: number; high: number }) => `${r.median.toFixed(2)}× [${r.low.toFixed(2)}–${r.high.toFixed(2)}]`
  for (const job of jobs) {
    console.log(`\n${job.name} (${THREADS} threads, ${benchSettings.rounds} rounds; median of same-round ratios [spread])`)
    for (const c of contenders) {
      const series = rates.get(`${job.name}|${c.name}`)!
      const median = [...series].sort((x, y) => x - y)[Math.floor(series.length / 2)]
      const vs = ratio(job, c.name, "piscina 5")
      const extra = job.concurrency === 1 ? `  ${(1e6 / median).toFixed(1)} µs/task` : ""
      console.log(`  ${c.name.padEnd(34)} ${Math.round(median).toString().padStart(8)} tasks/s  ${show(vs)} piscina${extra}`)
      results.push({ job: job.name, contender: c.name, tasksPerSecond: Math.round(median), vsPiscina: Number(vs.median.toFixed(3)), low: Number(vs.low.toFixed(3)), high: Number(vs.high.toFixed(3)) })
    }
  }
  const roundTrip = ratio(jobs[2], "piscina 5", "ours: WorkerPool")
  const targets = {
    "tiny task ≥ 1.0× piscina": ratio(jobs[0], "ours: WorkerPool", "piscina 5"),
    "1 ms CPU task ≥ 1.0× piscina": ratio(jobs[1], "ours: WorkerPool", "piscina 5"),
    "round trip ≤ 1.0× piscina's time": roundTrip,
    "vs effect/rpc worker pool (tiny task)": ratio(jobs[0], "ours: WorkerPool", "effect/rpc layerProtocolWorker"),
    "vs effect/rpc worker pool (round trip)": ratio(jobs[2], "ours: WorkerPool", "effect/rpc layerProtocolWorker")
  }
  console.log("\ntargets (ours / other, median [spread]; round trip: our time / piscina's)")
  for (const [target, value] of Object.entries(targets)) console.log(`  ${target.padEnd(40)} ${show(value)}`)
  writeResults(fileURLToPath(new URL("./results/worker.json", import.meta.url)), { threads: THREADS, rounds: benchSettings.rounds, node: process.version, results, targets })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
