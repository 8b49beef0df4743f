/**
 * pg benchmark (Effect 4): our PgPool, @effect/sql-pg 4's PgClient.layer — each without and with
 * `multiplex` — raw `pg.Pool` with async/await, and a ceiling: the same `SqlClient` API over
 * `pg.Pool`'s own pool (what the Effect statement pipeline leaves over the raw client). One
 * process, one server, pool size 10; `SELECT 1` and a primary-key lookup at concurrency 1, 16
 * and 64. Every contender runs once per round, order rotated; ratios are medians of same-round
 * ratios with the lowest and highest round. Writes bench/results/pg.json.
 *
 *   npm run bench -w @effect-pool/pg          (embedded Postgres, or the server in PG_URL)
 */
import { PgPool } from "@effect-pool/pg"
import { benchDatabase, benchSettings, collectGarbage, effectLoop, median, pairedRatio, promiseLoop, randomBenchItemId, rotated, writeResults } from "@effect-pool/testing-effect4"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql"
import type { Connection } from "effect/sql/SqlConnection"
import { SqlError, UnknownError } from "effect/sql/SqlError"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"

const SIZE = 10
const opsFor = (concurrency: number) => Math.round((concurrency === 1 ? 2_000 : 8_000) * benchSettings.scale)

type Kind = "select1" | "pk"
interface Contender {
  readonly name: string
  readonly run: (kind: Kind, ops: number, concurrency: number) => Promise<void>
  readonly close: () => Promise<void>
}

const raw = (url: string): Contender => {
  const pool = new pg.Pool({ connectionString: url, max: SIZE, application_name: "bench-raw" })
  pool.on("error", () => {})
  const task = (kind: Kind) => () =>
    kind === "select1" ? pool.query("SELECT 1") : pool.query("SELECT id, name FROM bench_items WHERE id = $1", [randomBenchItemId()])
  return { name: "raw", run: (kind, ops, concurrency) => promiseLoop(ops, concurrency, task(kind)), close: () => pool.end() }
}

/** The ceiling: Effect 4's `SqlClient` (the same statement pipeline) over `pg.Pool`'s own pool. */
const overPgPool = (url: string): Layer.Layer<SqlClient.SqlClient> => {
  const make = Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({ connectionString: url, max: SIZE, application_name: "bench-ceiling" })
        pool.on("error", () => {})
        return pool
      }),
      (pool) => Effect.promise(() => pool.end())
    )
    const query = (sql: string, params: ReadonlyArray<unknown>, rowMode?: "array") =>
      Effect.callback<pg.QueryResult, SqlError>((resume) => {
        pool.query({ text: sql, values: params as Array<unknown>, ...(rowMode ? { rowMode } : {}) }, (error, result) =>
          resume(error
            ? Effect.fail(new SqlError({ reason: new UnknownError({ cause: error, message: error.message, operation: "query" }) }))
            : Effect.succeed(result)))
      })
    const connection: Connection = {
      execute: (sql, params) => Effect.map(query(sql, params), (r) => r.rows),
      executeRaw: (sql, params) => query(sql, params),
      executeStream: () => {
        throw new Error("not benchmarked")
      },
      executeValues: (sql, params) => Effect.map(query(sql, params, "array"), (r) => r.rows),
      executeValuesUnprepared: (sql, params) => Effect.map(query(sql, params, "array"), (r) => r.rows),
      executeUnprepared: (sql, params) => Effect.map(query(sql, params), (r) => r.rows)
    }
    return yield* SqlClient.make({
      acquirer: Effect.succeed(connection),
      borrower: (f) => f(connection),
      compiler: PgClient.makeCompiler(),
      driver: "pg",
      spanAttributes: []
    })
  })
  return Layer.effect(SqlClient.SqlClient, make).pipe(Layer.provide(Reactivity.layer))
}

const effectContender = (name: string, layer: Layer.Layer<SqlClient.SqlClient, unknown>): Contender => {
  const runtime = ManagedRuntime.make(layer)
  const workload = (kind: Kind, ops: number, concurrency: number) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      effectLoop(ops, concurrency, kind === "select1"
        ? () => sql`SELECT 1`
        : () => sql`SELECT id, name FROM bench_items WHERE id = ${randomBenchItemId()}`))
  return {
    name,
    run: (kind, ops, concurrency) => runtime.runPromise(workload(kind, ops, concurrency)),
    close: () => runtime.dispose()
  }
}

const main = async () => {
  const { url, dispose } = await benchDatabase()

  const u = Redacted.make(url)
  const contenders = [
    raw(url),
    effectContender("ceiling", overPgPool(url)),
    effectContender("theirs", PgClient.layer({ url: u, maxConnections: SIZE, applicationName: "bench-theirs" })),
    effectContender("ours", PgPool.layer({ url: u, max: SIZE, applicationName: "bench-ours" })),
    effectContender("theirs-mux", PgClient.layer({ url: u, maxConnections: SIZE, multiplex: true, applicationName: "bench-theirs-mux" })),
    effectContender("ours-mux", PgPool.layer({ url: u, max: SIZE, multiplex: true, applicationName: "bench-ours-mux" }))
  ]
  const only = process.env.BENCH_ONLY?.split(",")
  const running = only === undefined ? contenders : contenders.filter((c) => only.includes(c.name) || c.name === "raw")
  for (const c of running) await c.run("select1", 200, SIZE) // warm up: open connections, JIT

  const roundsAt = (concurrency: number) => Number(process.env.BENCH_ROUNDS ?? (concurrency === 1 ? 9 : 7))
  const pairs: ReadonlyArray<readonly [string, string]> = [
    ["ours", "theirs"],
    ["ours-mux", "theirs-mux"],
    ["ours", "raw"],
    ["ours-mux", "raw"],
    ["ceiling", "raw"],
    ["theirs", "raw"],
    ["theirs-mux", "raw"]
  ]
  const results: Array<Record<string, unknown>> = []
  const ratios: Record<string, Record<string, { median: number; low: number; high: number }>> = {}
  const kinds = (process.env.BENCH_KINDS?.split(",") ?? ["select1", "pk"]) as Array<Kind>
  const levels = process.env.BENCH_CONCURRENCY?.split(",").map(Number) ?? [1, 16, 64]
  for (const kind of kinds) {
    for (const concurrency of levels) {
      const ops = opsFor(concurrency)
      const qps = new Map<string, Array<number>>(running.map((c) => [c.name, []]))
      // this process's CPU time per query: what each client costs, less sensitive to a busy machine than the rate
      const cpu = new Map<string, Array<number>>(running.map((c) => [c.name, []]))
      for (let round = 0; round < roundsAt(concurrency); round++) {
        for (const c of rotated(running, round)) {
          collectGarbage()
          const start = performance.now()
          const cpuStart = process.cpuUsage()
          await c.run(kind, ops, concurrency)
          const used = process.cpuUsage(cpuStart)
          qps.get(c.name)!.push(ops / ((performance.now() - start) / 1000))
          cpu.get(c.name)!.push((used.user + used.system) / ops)
        }
      }
      const cell = `${kind} c=${concurrency}`
      ratios[cell] = {}
      for (const [a, b] of pairs) {
        if (qps.has(a) && qps.has(b)) ratios[cell][`${a}/${b}`] = pairedRatio(qps.get(a)!, qps.get(b)!)
      }
      for (const c of running) {
        results.push({
          kind,
          concurrency,
          contender: c.name,
          qps: Math.round(median(qps.get(c.name)!)),
          cpuMicrosPerQuery: Number(median(cpu.get(c.name)!).toFixed(1)),
          samples: qps.get(c.name)!.map(Math.round)
        })
      }
      console.log(`${cell.padEnd(12)} ${running.map((c) => `${c.name} ${median(qps.get(c.name)!).toFixed(0)}`).join("  ")}`)
      console.log(`${"".padEnd(12)} CPU µs/query: ${running.map((c) => `${c.name} ${median(cpu.get(c.name)!).toFixed(0)}`).join("  ")}`)
      console.log(
        `${"".padEnd(12)} ` +
          Object.entries(ratios[cell]).map(([k, r]) => `${k} ${r.median.toFixed(2)} [${r.low.toFixed(2)}–${r.high.toFixed(2)}]`).join("  ")
      )
    }
  }

  for (const c of running) await c.close()
  await dispose()
  writeResults(join(dirname(fileURLToPath(import.meta.url)), "results", "pg.json"), {
    poolSize: SIZE,
    rounds: { "c=1": roundsAt(1), "c=16/64": roundsAt(16) },
    results,
    ratios
  })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
