/**
 * Client CPU per query, A/B in one process: this build of `PgPool` against @effect/sql-pg 4's
 * `PgClient.layer` and — with `PG_BASE` set — against another build of `PgPool` (e.g. a copy of
 * the previous commit's dist), contenders alternating every round, order rotated. Reports the
 * median µs of this process's CPU (user + system) per query and the median of same-round ratios,
 * which a busy machine moves much less than the throughput.
 *
 *   PG_BASE=/tmp/base/node_modules/@effect-pool/pg/dist/index.js \
 *   CPU_CASES=select1:16,pk:1 CPU_MUX=both CPU_ROUNDS=15 node --expose-gc --import tsx bench/cpu.ts
 *
 * `CPU_ONLY=ours` runs one contender (for `node --cpu-prof`).
 */
import { PgPool } from "@effect-pool/pg"
import { benchDatabase, collectGarbage, effectLoop, median, randomBenchItemId, rotated } from "@effect-pool/testing-effect4"
import { PgClient } from "@effect/sql-pg"
import { Effect, type Layer, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"

type Kind = "select1" | "pk"
const SIZE = 10

interface Contender {
  readonly name: string
  readonly runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>
}

const workload = (kind: Kind, ops: number, concurrency: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    effectLoop(ops, concurrency, kind === "select1"
      ? () => sql`SELECT 1`
      : () => sql`SELECT id, name FROM bench_items WHERE id = ${randomBenchItemId()}`))

const main = async () => {
  const { url, dispose } = await benchDatabase()
  const u = Redacted.make(url)
  const base = process.env.PG_BASE ? (await import(process.env.PG_BASE)).PgPool as typeof PgPool : undefined
  const muxModes = process.env.CPU_MUX === "both" ? [false, true] : [process.env.CPU_MUX === "true"]
  const cases = (process.env.CPU_CASES ?? "select1:1,select1:16,pk:1,pk:16").split(",").map((c) => {
    const [kind, concurrency] = c.split(":")
    return { kind: kind as Kind, concurrency: Number(concurrency) }
  })
  const only = process.env.CPU_ONLY?.split(",")
  const rounds = Number(process.env.CPU_ROUNDS ?? 11)
  const scale = Number(process.env.CPU_SCALE ?? 1)
  for (const multiplex of muxModes) {
    const make = (name: string, layer: Layer.Layer<SqlClient.SqlClient, unknown>): Contender => ({
      name,
      runtime: ManagedRuntime.make(layer)
    })
    const all: Array<Contender> = [
      make("theirs", PgClient.layer({ url: u, maxConnections: SIZE, multiplex })),
      make("ours", PgPool.layer({ url: u, max: SIZE, multiplex })),
      ...(base ? [make("base", base.layer({ url: u, max: SIZE, multiplex }))] : [])
    ]
    const contenders = only ? all.filter((c) => only.includes(c.name)) : all
    for (const c of contenders) await c.runtime.runPromise(workload("select1", 500, SIZE))
    for (const { kind, concurrency } of cases) {
      const ops = Math.round((concurrency === 1 ? 2_000 : 6_000) * scale)
      const cpu = new Map(contenders.map((c) => [c.name, [] as Array<number>]))
      for (let round = 0; round < rounds; round++) {
        for (const c of rotated(contenders, round)) {
          collectGarbage()
          const start = process.cpuUsage()
          await c.runtime.runPromise(workload(kind, ops, concurrency))
          const used = process.cpuUsage(start)
          cpu.get(c.name)!.push((used.user + used.system) / ops)
        }
      }
      const ratio = (a: string, b: string) => {
        const xs = cpu.get(a), ys = cpu.get(b)
        return xs && ys ? ` ${a}/${b} ${median(xs.map((x, i) => x / ys[i]!)).toFixed(3)}` : ""
      }
      console.log(
        `${kind} c=${concurrency}${multiplex ? " mux" : ""}`.padEnd(18) +
          contenders.map((c) => `${c.name} ${median(cpu.get(c.name)!).toFixed(1)}`).join("  ") +
          " |" + ratio("ours", "theirs") + ratio("ours", "base") + ratio("base", "theirs")
      )
    }
    for (const c of contenders) await c.runtime.dispose()
  }
  await dispose()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
