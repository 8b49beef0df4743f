/**
 * Round trip (1 task in flight, 2 threads) and tiny-task throughput (64 in flight), same-process
 * A/B: piscina 5 (its default atomics: "sync"), ours with atomics "sync" (the default) and ours
 * with "disabled", in short batches alternating contenders (order rotated each round), so load
 * changes hit all of them alike. Per task: wall time and CPU time of the whole process (main
 * thread + worker threads: `process.cpuUsage()` is process-wide), medians over rounds.
 * Run with `node --expose-gc --import tsx bench/roundtrip.bench.ts` in packages/worker.
 */
import { WorkerPool } from "@effect-pool/worker"
import { benchTasksPath, collectGarbage, effectLoop, median, promiseLoop, rotated } from "@effect-pool/testing"
import { Effect, Exit, Scope } from "effect"
import { Piscina } from "piscina"

const THREADS = 2
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const tasksFile = benchTasksPath // the test kit's, one file for both editions

interface Contender {
  readonly name: string
  readonly run: (ops: number, concurrency: number) => Promise<void>
  readonly close: () => Promise<void>
  /** Tasks completed and tasks taken parked so far (ours only). */
  readonly parked?: () => Promise<{ readonly completed: number; readonly parked: number }>
}

const piscina = (): Contender => {
  const pool = new Piscina({ filename: tasksFile, minThreads: THREADS, maxThreads: THREADS })
  let i = 0
  return { name: "piscina 5", run: (ops, c) => promiseLoop(ops, c, () => pool.run({ a: i++, b: 1 })), close: () => pool.destroy() }
}

const ours = async (atomics: "sync" | "disabled"): Promise<Contender> => {
  const scope = Effect.runSync(Scope.make())
  const pool = await Effect.runPromise(Scope.extend(WorkerPool.make<Record<string, number>, number>({ filename: tasksFile, minWorkers: THREADS, maxWorkers: THREADS, atomics }), scope))
  let i = 0
  return {
    name: `ours, atomics: ${atomics}`,
    run: (ops, c) => Effect.runPromise(effectLoop(ops, c, () => WorkerPool.run(pool, { a: i++, b: 1 }))),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
    parked: () => Effect.runPromise(WorkerPool.stats(pool))
  }
}

const jobs = [
  { name: "round trip, 1 in flight", ops: 1_000, concurrency: 1 },
  { name: "tiny task, 64 in flight", ops: 5_000, concurrency: 64 }
]

const main = async () => {
  const contenders = [piscina(), await ours("sync"), await ours("disabled")]
  for (const c of contenders) await c.run(2_000, 64) // warm-up
  const wall = new Map<string, Array<number>>()
  const cpu = new Map<string, Array<number>>()
  const parkedShare = new Map<string, Array<number>>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const job of jobs) {
      for (const c of rotated(contenders, round)) {
        collectGarbage()
        const key = `${job.name}|${c.name}`
        const before = await c.parked?.()
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        await c.run(job.ops, job.concurrency)
        const t = performance.now() - t0
        const used = process.cpuUsage(cpu0)
        const after = await c.parked?.()
        if (before !== undefined && after !== undefined) {
          ;(parkedShare.get(key) ?? parkedShare.set(key, []).get(key)!).push((after.parked - before.parked) / (after.completed - before.completed))
        }
        ;(wall.get(key) ?? wall.set(key, []).get(key)!).push((t * 1000) / job.ops)
        ;(cpu.get(key) ?? cpu.set(key, []).get(key)!).push((used.user + used.system) / job.ops)
      }
    }
  }
  for (const c of contenders) await c.close()
  console.log(`node ${process.version}, ${THREADS} threads, ${ROUNDS} rounds, medians per task`)
  for (const job of jobs) {
    console.log(`\n${job.name}`)
    const base = median(wall.get(`${job.name}|piscina 5`)!)
    const baseCpu = median(cpu.get(`${job.name}|piscina 5`)!)
    for (const c of contenders) {
      const w = median(wall.get(`${job.name}|${c.name}`)!)
      const u = median(cpu.get(`${job.name}|${c.name}`)!)
      const share = parkedShare.get(`${job.name}|${c.name}`)
      const parked = share === undefined ? "" : `  ${(median(share) * 100).toFixed(0)} % taken parked`
      console.log(`  ${c.name.padEnd(26)} ${w.toFixed(1).padStart(7)} µs wall (${(w / base).toFixed(2)}× piscina)  ${u.toFixed(1).padStart(7)} µs CPU (${(u / baseCpu).toFixed(2)}×)${parked}`)
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
