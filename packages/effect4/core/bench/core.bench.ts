/**
 * Core benchmark, Effect 4 edition: our Pool against Effect 4's own `effect/Pool` and
 * generic-pool, one process, pool of 10. The contenders run alternating, round after round (who
 * goes first rotates); each figure is the median over rounds of the same-round ratio, with its
 * spread (lowest … highest), so a noisy shared machine moves both sides of a ratio together.
 * Writes bench/results/core.json.
 *
 *   npm run bench -w @effect-pool/core                  (full run)
 *   BENCH_OPS=20000 BENCH_ROUNDS=5 npm run bench -w @effect-pool/core   (quick run)
 */
import { Effect, Exit, Pool as EffectPool, Scope } from "effect"
import genericPool from "generic-pool"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Pool } from "@effect-pool/core" // the built package, as users run it
import { collectGarbage, effectLoop, median, pairedRatio, rotated, writeResults } from "@effect-pool/testing-effect4"

const OPS = Number(process.env.BENCH_OPS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const SIZE = 10
const CONTENDERS = 200

const conn = () => ({ id: Math.random() })

/** `n` runs of `body` on one fiber. */
const times = <X, Y>(n: number, body: () => Effect.Effect<X, Y>): Effect.Effect<void, Y> => effectLoop(n, 1, body)

/** `CONTENDERS` fibers sharing `ops` runs of `body`. */
const contended = <X, Y>(ops: number, body: () => Effect.Effect<X, Y>): Effect.Effect<void, Y> =>
  effectLoop(ops, CONTENDERS, body)

interface Contender {
  readonly name: string
  readonly ops: number
  readonly run: () => Promise<unknown>
}

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.provide(effect, scope))

  const ours = await inScope(Pool.make({ acquire: Effect.sync(conn), min: SIZE, max: SIZE }))
  await Effect.runPromise(Pool.awaitMin(ours))
  const theirs = await inScope(EffectPool.make({ acquire: Effect.sync(conn), size: SIZE }))
  await Effect.runPromise(EffectPool.use(theirs, () => Effect.void)) // warm
  const generic = genericPool.createPool({ create: async () => conn(), destroy: async () => {} }, { max: SIZE, min: SIZE })

  const perFiber = Math.floor(OPS / CONTENDERS) * CONTENDERS
  const effect = (name: string, ops: number, loop: Effect.Effect<void, unknown>): Contender => ({
    name,
    ops,
    run: () => Effect.runPromise(loop)
  })
  const contenders: ReadonlyArray<Contender> = [
    effect("ours: Pool.use", OPS, times(OPS, () => Pool.use(ours, Effect.succeed))),
    effect("Effect 4 Pool.use", OPS, times(OPS, () => EffectPool.use(theirs, Effect.succeed))),
    {
      name: "generic-pool acquire+release",
      ops: OPS,
      run: async () => {
        for (let i = 0; i < OPS; i++) {
          const c = await generic.acquire()
          await generic.release(c)
        }
      }
    },
    effect("ours: Effect.scoped(Pool.get)", OPS, times(OPS, () => Effect.scoped(Pool.get(ours)))),
    effect("Effect 4: Effect.scoped(Pool.get)", OPS, times(OPS, () => Effect.scoped(EffectPool.get(theirs)))),
    effect(`ours: ${CONTENDERS} fibers, Pool.use`, perFiber, contended(perFiber, () => Pool.use(ours, () => Effect.yieldNow))),
    effect(
      `Effect 4: ${CONTENDERS} fibers, Pool.use`,
      perFiber,
      contended(perFiber, () => EffectPool.use(theirs, () => Effect.yieldNow))
    )
  ]

  // one warm-up round (JIT), then the measured ones
  for (const c of contenders) await c.run()
  const samples = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of rotated(contenders, round)) {
      collectGarbage()
      const start = process.hrtime.bigint()
      await c.run()
      samples.get(c.name)!.push(Number(process.hrtime.bigint() - start) / c.ops)
    }
  }

  const rows = contenders.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c.name)!) }))
  for (const row of rows) {
    console.log(`${row.name.padEnd(40)} ${row.nsPerOp.toFixed(0).padStart(7)} ns/op ${(1e9 / row.nsPerOp).toFixed(0).padStart(10)} ops/s`)
  }
  const ratio = (a: string, b: string) => pairedRatio(samples.get(a)!, samples.get(b)!)
  const ratios = {
    "Pool.use / Effect 4 Pool.use (target <= 1.0)": ratio("ours: Pool.use", "Effect 4 Pool.use"),
    "Pool.use / generic-pool (target <= 0.7)": ratio("ours: Pool.use", "generic-pool acquire+release"),
    "scoped Pool.get / Effect 4 scoped Pool.get (target <= 1.0)": ratio(
      "ours: Effect.scoped(Pool.get)",
      "Effect 4: Effect.scoped(Pool.get)"
    ),
    [`contended: ours / Effect 4, ${CONTENDERS} fibers (target <= 1.0)`]: ratio(
      `ours: ${CONTENDERS} fibers, Pool.use`,
      `Effect 4: ${CONTENDERS} fibers, Pool.use`
    )
  }
  console.log(`\nratios (median of ${ROUNDS} same-round ratios, low … high)`)
  for (const [k, v] of Object.entries(ratios)) {
    console.log(`  ${k.padEnd(62)} ${v.median.toFixed(2)}  (${v.low.toFixed(2)} … ${v.high.toFixed(2)})`)
  }

  const heap = await heapGrowth(ours)
  console.log(
    `\nheap: ${heap.after10kMB.toFixed(1)} MB after 10k, ${heap.afterMB.toFixed(1)} MB after ${heap.ops} ops: growth ${
      heap.growthMB.toFixed(2)
    } MB (target < 5)${heap.gcExposed ? "" : " (run with --expose-gc for a precise figure)"}`
  )

  await generic.drain()
  await generic.clear()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  writeResults(join(dirname(fileURLToPath(import.meta.url)), "results", "core.json"), {
    ops: OPS,
    rounds: ROUNDS,
    rows,
    samples: Object.fromEntries(samples),
    ratios,
    heap
  })
}

const heapGrowth = async (pool: Pool.Pool<{ id: number }>) => {
  const gc = (globalThis as { gc?: () => void }).gc
  const heap = () => {
    gc?.()
    gc?.()
    return process.memoryUsage().heapUsed
  }
  await Effect.runPromise(times(10_000, () => Pool.use(pool, Effect.succeed)))
  const after10k = heap()
  const total = Number(process.env.BENCH_HEAP_OPS ?? 1_000_000)
  await Effect.runPromise(times(total - 10_000, () => Pool.use(pool, Effect.succeed)))
  const after = heap()
  return {
    ops: total,
    after10kMB: after10k / 2 ** 20,
    afterMB: after / 2 ** 20,
    growthMB: (after - after10k) / 2 ** 20,
    gcExposed: gc !== undefined
  }
}

main()
