/**
 * pg benchmark: our PgPool, @effect/sql-pg's PgClient.layer (pg.Pool inside) and raw pg.Pool
 * with async/await, one process, one server, pool size 10. `SELECT 1` and a primary-key lookup
 * at concurrency 1, 16 and 64; then the time each pool takes to serve again after every one of
 * its connections is terminated. Writes bench/results/pg.json.
 *
 *   npm run bench -w @effect-pool/pg          (embedded Postgres, or the server in PG_URL)
 */
import { PgPool } from "@effect-pool/pg"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, type Layer, ManagedRuntime, Redacted } from "effect"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { benchDatabase, benchSettings, collectGarbage, effectLoop, median, pairedRatio, promiseLoop, randomBenchItemId, rotated, writeResults } from "@effect-pool/testing"

const SIZE = 10
const RECOVERY_ROUNDS = 9
const opsFor = (concurrency: number) => Math.round((concurrency === 1 ? 2_000 : 8_000) * benchSettings.scale)

interface Contender {
  readonly name: string
  /** Runs `ops` queries of `kind` with `concurrency` in flight. */
  readonly run: (kind: Kind, ops: number, concurrency: number) => Promise<void>
  /** Terminates every connection of this pool on the server, then measures ms until a query succeeds. */
  readonly appName: string
  readonly query1: () => Promise<unknown>
  readonly close: () => Promise<void>
}

type Kind = "select1" | "pk"

const raw = (url: string): Contender => {
  const pool = new pg.Pool({ connectionString: url, max: SIZE, application_name: "bench-raw" })
  pool.on("error", () => {})
  const task = (kind: Kind) => () =>
    kind === "select1" ? pool.query("SELECT 1") : pool.query("SELECT id, name FROM bench_items WHERE id = $1", [randomBenchItemId()])
  return {
    name: "raw pg.Pool (async/await)",
    appName: "bench-raw",
    run: (kind, ops, concurrency) => promiseLoop(ops, concurrency, task(kind)),
    query1: () => pool.query("SELECT 1"),
    close: () => pool.end()
  }
}

const effectContender = (name: string, appName: string, layer: Layer.Layer<SqlClient.SqlClient, unknown>): Contender => {
  const runtime = ManagedRuntime.make(layer)
  const workload = (kind: Kind, ops: number, concurrency: number) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      effectLoop(ops, concurrency, kind === "select1"
        ? () => sql`SELECT 1`
        : () => sql`SELECT id, name FROM bench_items WHERE id = ${randomBenchItemId()}`))
  return {
    name,
    appName,
    run: (kind, ops, concurrency) => runtime.runPromise(workload(kind, ops, concurrency)),
    query1: () => runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`)),
    close: () => runtime.dispose()
  }
}

const recovery = async (admin: pg.Client, contender: Contender) => {
  await contender.run("select1", 200, SIZE) // every connection open
  const start = performance.now()
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [contender.appName])
  let failures = 0
  while (true) {
    try {
      await contender.query1()
      break
    } catch {
      failures++
      if (performance.now() - start > 30_000) return { ms: Infinity, failures }
    }
  }
  return { ms: performance.now() - start, failures }
}

const main = async () => {
  const { url, dispose } = await benchDatabase()
  // the recovery rounds terminate the contenders' connections from here
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()

  const contenders = [
    raw(url),
    effectContender("@effect/sql-pg PgClient.layer", "bench-sqlpg", PgClient.layer({ url: Redacted.make(url), maxConnections: SIZE, applicationName: "bench-sqlpg" })),
    effectContender("ours: PgPool.layer", "bench-ours", PgPool.layer({ url: Redacted.make(url), max: SIZE, applicationName: "bench-ours" }))
  ]
  for (const c of contenders) await c.run("select1", 100, SIZE) // warm up: open connections, JIT

  // Every contender once per round, order rotated; per round its rate and this process's CPU
  // time per query (what each client costs, apart from the scheduling noise of a 2-core machine
  // that also runs the server). Rates are medians over rounds; ours/sql-pg is the median of the
  // same-round ratios, with the lowest and highest round beside it.
  // one query at a time is the noisiest (each waits on the server process being scheduled):
  // single rounds there range 0.7–1.7×, so it gets more rounds
  const roundsAt = (concurrency: number) => Number(process.env.BENCH_ROUNDS ?? (concurrency === 1 ? 21 : 9))
  const results: Array<Record<string, unknown>> = []
  const ratios: Record<string, { median: number; low: number; high: number }> = {}
  for (const kind of ["select1", "pk"] as const) {
    for (const concurrency of [1, 16, 64]) {
      const ops = opsFor(concurrency)
      const qps = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
      const cpu = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
      for (let round = 0; round < roundsAt(concurrency); round++) {
        for (const c of rotated(contenders, round)) {
          collectGarbage()
          const start = performance.now()
          const cpuStart = process.cpuUsage()
          await c.run(kind, ops, concurrency)
          const used = process.cpuUsage(cpuStart)
          qps.get(c.name)!.push(ops / ((performance.now() - start) / 1000))
          cpu.get(c.name)!.push((used.user + used.system) / ops)
        }
      }
      const [raw_, sqlpg, ours] = contenders.map((c) => c.name)
      const vsSqlPg = pairedRatio(qps.get(ours)!, qps.get(sqlpg)!)
      const vsRaw = pairedRatio(qps.get(ours)!, qps.get(raw_)!)
      // CPU: sql-pg's time per query over ours (> 1: ours costs less)
      const cpuVsSqlPg = pairedRatio(cpu.get(sqlpg)!, cpu.get(ours)!)
      ratios[`${kind} c=${concurrency}`] = vsSqlPg
      for (const c of contenders) {
        results.push({
          kind,
          concurrency,
          contender: c.name,
          qps: Math.round(median(qps.get(c.name)!)),
          cpuMicrosPerQuery: Number(median(cpu.get(c.name)!).toFixed(1)),
          samples: qps.get(c.name)!.map(Math.round)
        })
      }
      console.log(
        `${kind.padEnd(8)} c=${String(concurrency).padEnd(3)} ` +
          contenders.map((c) => `${c.name.split(" ")[0]} ${median(qps.get(c.name)!).toFixed(0).padStart(6)} q/s`).join("  ") +
          `   ours/sql-pg ${vsSqlPg.median.toFixed(2)} [${vsSqlPg.low.toFixed(2)}–${vsSqlPg.high.toFixed(2)}]  ours/raw ${vsRaw.median.toFixed(2)}` +
          // @effect/sql-pg is raw pg.Pool under @effect/sql's statement pipeline: what that leaves
          `  (pipeline ceiling sql-pg/raw ${pairedRatio(qps.get(sqlpg)!, qps.get(raw_)!).median.toFixed(2)})`
      )
      console.log(
        `${"".padEnd(14)} CPU µs/query: ${contenders.map((c) => `${c.name.split(" ")[0]} ${median(cpu.get(c.name)!).toFixed(0)}`).join("  ")}` +
          `   sql-pg's CPU/ours ${cpuVsSqlPg.median.toFixed(2)}`
      )
    }
  }

  // one recovery is a few ms of server-side noise: several rounds, contenders interleaved, median
  const samples = new Map<string, Array<{ ms: number; failures: number }>>(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < RECOVERY_ROUNDS; round++) {
    for (const c of rotated(contenders, round)) samples.get(c.name)!.push(await recovery(admin, c))
  }
  const recoveries: Record<string, { ms: number; failures: number; samplesMs: Array<number> }> = {}
  for (const c of contenders) {
    const runs = samples.get(c.name)!
    const ms = median(runs.map((r) => r.ms))
    const failures = median(runs.map((r) => r.failures))
    recoveries[c.name] = { ms, failures, samplesMs: runs.map((r) => Math.round(r.ms * 10) / 10) }
    console.log(
      `recovery after terminating every connection: ${c.name.padEnd(32)} median ${ms.toFixed(1)} ms ` +
        `(${RECOVERY_ROUNDS} rounds), median ${failures} failed queries meanwhile`
    )
  }

  for (const c of contenders) await c.close()
  await admin.end()
  await dispose()
  writeResults(join(dirname(fileURLToPath(import.meta.url)), "results", "pg.json"), { poolSize: SIZE, rounds: { "c=1": roundsAt(1), "c=16/64": roundsAt(16) }, results, oursVsSqlPg: ratios, recoveries })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
