/**
 * Core benchmark: our Pool against generic-pool, tarn and Effect 3's own Pool, one process,
 * pool of 10, borrow+return loops. Prints ns/op, ops/s and ratios; writes bench/results/core.json.
 *
 *   npm run bench -w @effect-pool/core            (full run)
 *   BENCH_OPS=20000 npm run bench -w @effect-pool/core   (quick run)
 */
import { Effect, Pool as EffectPool } from "effect"
import genericPool from "generic-pool"
import * as tarn from "tarn"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Pool } from "@effect-pool/core" // the built package, as users run it
import { benchSettings, effectLoop, writeResults } from "@effect-pool/testing"

const OPS = Number(process.env.BENCH_OPS ?? 200_000)
const SIZE = 10
const CONTENDERS = 200

interface Row {
  readonly name: string
  readonly nsPerOp: number
}

const time = async (name: string, ops: number, run: () => Promise<unknown>): Promise<Row> => {
  let best = Infinity
  for (let round = 0; round < benchSettings.rounds; round++) {
    const start = process.hrtime.bigint()
    await run()
    const ns = Number(process.hrtime.bigint() - start) / ops
    if (ns < best) best = ns
  }
  return { name, nsPerOp: best }
}

const conn = () => ({ id: Math.random() })

/** `n` runs of `body` on one fiber. */
const times = <X, Y>(n: number, body: () => Effect.Effect<X, Y>): Effect.Effect<void, Y> => effectLoop(n, 1, body)

// ---- peers -----------------------------------------------------------------

const genericPoolLoop = async () => {
  const pool = genericPool.createPool({ create: async () => conn(), destroy: async () => {} }, { max: SIZE, min: SIZE })
  const t = await time("generic-pool acquire+release", OPS, async () => {
    for (let i = 0; i < OPS; i++) {
      const c = await pool.acquire()
      await pool.release(c)
    }
  })
  await pool.drain()
  await pool.clear()
  return t
}

const tarnLoop = async () => {
  const pool = new tarn.Pool({ create: async () => conn(), destroy: () => {}, min: SIZE, max: SIZE })
  const t = await time("tarn acquire+release", OPS, async () => {
    for (let i = 0; i < OPS; i++) {
      const c = await pool.acquire().promise
      pool.release(c)
    }
  })
  await pool.destroy()
  return t
}

const effectPoolScoped = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* EffectPool.make({ acquire: Effect.sync(conn), size: SIZE })
    const loop = times(OPS, () => Effect.scoped(EffectPool.get(pool)))
    return yield* Effect.promise(() => time("Effect 3 Pool: Effect.scoped(Pool.get)", OPS, () => Effect.runPromise(loop)))
  })))

const effectPoolContended = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* EffectPool.make({ acquire: Effect.sync(conn), size: SIZE })
    const per = Math.floor(OPS / CONTENDERS)
    const loop = Effect.forEach(
      Array.from({ length: CONTENDERS }),
      () => times(per, () => Effect.scoped(Effect.zipRight(EffectPool.get(pool), Effect.yieldNow()))),
      { concurrency: "unbounded", discard: true }
    )
    return yield* Effect.promise(() => time(`Effect 3 Pool: ${CONTENDERS} fibers, scoped get`, per * CONTENDERS, () => Effect.runPromise(loop)))
  })))

// ---- floors ----------------------------------------------------------------

const bareScoped = () => {
  const loop = times(OPS, () => Effect.scoped(Effect.acquireRelease(Effect.succeed(1), () => Effect.void)))
  return time("floor: Effect.scoped(Effect.acquireRelease)", OPS, () => Effect.runPromise(loop))
}

const bareAcquireUseRelease = () => {
  const loop = times(OPS, () => Effect.acquireUseRelease(Effect.succeed(1), Effect.succeed, () => Effect.void))
  return time("floor: Effect.acquireUseRelease", OPS, () => Effect.runPromise(loop))
}

// ---- ours ------------------------------------------------------------------

const ours = <X>(name: string, ops: number, body: (pool: Pool.Pool<{ id: number }>) => Effect.Effect<X, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* Pool.make({ acquire: Effect.sync(conn), min: SIZE, max: SIZE })
    yield* Effect.promise(() => Effect.runPromise(Pool.use(pool, () => Effect.void))) // warm
    return yield* Effect.promise(() => time(name, ops, () => Effect.runPromise(body(pool))))
  })))

const oursUse = () => ours("ours: Pool.use", OPS, (pool) => times(OPS, () => Pool.use(pool, Effect.succeed)))
const oursScoped = () =>
  ours("ours: Effect.scoped(Pool.get)", OPS, (pool) => times(OPS, () => Effect.scoped(Pool.get(pool))))
const oursContended = () => {
  const per = Math.floor(OPS / CONTENDERS)
  return ours(`ours: ${CONTENDERS} fibers, Pool.use`, per * CONTENDERS, (pool) =>
    Effect.forEach(
      Array.from({ length: CONTENDERS }),
      () => times(per, () => Pool.use(pool, () => Effect.yieldNow())),
      { concurrency: "unbounded", discard: true }
    ))
}

const heapGrowth = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* Pool.make({ acquire: Effect.sync(conn), min: SIZE, max: SIZE })
    const gc = (globalThis as { gc?: () => void }).gc
    const heap = () => {
      gc?.()
      gc?.()
      return process.memoryUsage().heapUsed
    }
    yield* times(10_000, () => Pool.use(pool, Effect.succeed))
    const after10k = heap()
    const total = Number(process.env.BENCH_HEAP_OPS ?? 1_000_000)
    yield* times(total - 10_000, () => Pool.use(pool, Effect.succeed))
    const after = heap()
    return { ops: total, after10kMB: after10k / 2 ** 20, afterMB: after / 2 ** 20, growthMB: (after - after10k) / 2 ** 20, gcExposed: gc !== undefined }
  })))

// ---- report ----------------------------------------------------------------

const main = async () => {
  const rows: Array<Row> = []
  for (const bench of [genericPoolLoop, tarnLoop, effectPoolScoped, bareAcquireUseRelease, bareScoped, oursUse, oursScoped, effectPoolContended, oursContended]) {
    const row = await bench()
    rows.push(row)
    console.log(`${row.name.padEnd(48)} ${row.nsPerOp.toFixed(0).padStart(7)} ns/op ${(1e9 / row.nsPerOp).toFixed(0).padStart(10)} ops/s`)
  }
  const by = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!.nsPerOp
  const ratios = {
    "Pool.use / generic-pool (target <= 2)": by("ours: Pool.use") / by("generic-pool"),
    "Pool.use / tarn": by("ours: Pool.use") / by("tarn"),
    "Effect 3 scoped get / Pool.use (target >= 8)": by("Effect 3 Pool: Effect.scoped") / by("ours: Pool.use"),
    "ours scoped get / bare scoped acquireRelease (target <= 1.15)": by("ours: Effect.scoped") / by("floor: Effect.scoped"),
    "contended: Effect 3 ns/op / ours ns/op (target >= 1)": by(`Effect 3 Pool: ${CONTENDERS}`) / by(`ours: ${CONTENDERS}`)
  }
  const heap = await heapGrowth()
  console.log("\nratios")
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(66)} ${v.toFixed(2)}`)
  console.log(`\nheap: ${heap.after10kMB.toFixed(1)} MB after 10k, ${heap.afterMB.toFixed(1)} MB after ${heap.ops} ops: growth ${heap.growthMB.toFixed(2)} MB (target < 5)${heap.gcExposed ? "" : " (run with --expose-gc for a precise figure)"}`)
  writeResults(join(dirname(fileURLToPath(import.meta.url)), "results", "core.json"), { ops: OPS, rows, ratios, heap })
}

main()
