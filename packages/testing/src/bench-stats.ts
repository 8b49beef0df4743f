/**
 * The benchmarks' shared harness: run counts from the environment, loops with a fixed number of
 * operations in flight, fair ordering of contenders, and results written as JSON. No effect
 * import: both Effect editions' benchmarks use it (`@effect-pool/testing/servers`).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

/** `BENCH_SCALE` multiplies operation counts; `BENCH_ROUNDS` rounds are run, the best kept. */
export const benchSettings = {
  scale: Number(process.env.BENCH_SCALE ?? 1),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3)
}

/** `ops` promise tasks with `concurrency` in flight. */
export const promiseLoop = async (ops: number, concurrency: number, task: () => Promise<unknown>): Promise<void> => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < ops) await task()
  }))
}

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Paired comparison: the median over rounds of `a[i] / b[i]`, with both measured in the same
 * round (interleaved, order rotated). On a busy 2-core machine one run's rate varies ±15 %; a
 * ratio from the same round cancels the drift both saw, and the median ignores a round one
 * contender lost to a GC pause or a noisy neighbour. The spread (lowest, highest) goes with it.
 */
export const pairedRatio = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): { median: number; low: number; high: number } => {
  const ratios = a.map((x, i) => x / b[i])
  return { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) }
}

/** The contenders in round `round`'s order: who goes first rotates, so no one is always last. */
export const rotated = <A>(contenders: ReadonlyArray<A>, round: number): ReadonlyArray<A> =>
  contenders.map((_, i) => contenders[(i + round) % contenders.length])

/** Collects garbage between runs when node runs with --expose-gc. */
export const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.()

/** Writes `data` (with the date and node version) as JSON to `path`. */
export const writeResults = (path: string, data: Record<string, unknown>): void => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...data }, null, 2))
  console.log(`\nwrote ${path}`)
}
