/**
 * Postgres through @effect-pool/pg: fibers writing in transactions and reading, while a chaos
 * fiber terminates a pooled connection on the server every half second. The pool replaces
 * them; every committed row is accounted for. Runs on embedded Postgres (started here) or the
 * server in DATABASE_URL.
 */
import { PgPool } from "@effect-pool/pg"
import { startServer } from "@effect-pool/testing"
import { SqlClient } from "@effect/sql"
import { Effect, Fiber, type Layer, Redacted, Schedule } from "effect"
import { bar, type Panel } from "./view.js"

/** The server: DATABASE_URL, or an embedded Postgres for the lifetime of the scope. */
export const databaseUrl = Effect.suspend(() => {
  const external = process.env.DATABASE_URL
  if (external !== undefined && external !== "") return Effect.succeed({ url: external, embedded: false })
  return Effect.map(
    Effect.acquireRelease(Effect.promise(startServer), (server) => Effect.promise(server.dispose)),
    (server) => ({ url: server.url, embedded: true })
  )
})

export interface PgReport {
  readonly transactions: number
  readonly committed: number
  readonly rowsInTable: number
  readonly failed: number
  /** Transactions whose COMMIT was cut off: they may or may not have committed. */
  readonly unknown: number
  readonly terminated: number
  readonly causes: ReadonlyArray<string>
}

export const postgresWorkload = (url: string, total: number, fibers: number) => {
  let done = 0
  let committed = 0
  let failed = 0
  let unknown = 0
  let terminated = 0
  const causes = new Map<string, number>()
  let stats: { size: number; max: number; idle: number; borrowed: number; waiting: number; created: number; destroyed: number } | undefined

  const layer = PgPool.layer({ url: Redacted.make(url), name: "demo", applicationName: "effect-pool-demo", max: 8, min: 2 })

  const run = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pool = yield* PgPool.PgPool
    yield* sql`DROP TABLE IF EXISTS demo_orders`
    yield* sql`CREATE TABLE demo_orders (id int primary key, amount int not null)`
    const refresh = Effect.flatMap(pool.stats, (s) => Effect.sync(() => (stats = s)))
    const refresher = yield* Effect.fork(Effect.repeat(refresh, Schedule.spaced("50 millis")))
    // chaos: kill one of the pool's connections on the server, twice a second
    yield* Effect.fork(Effect.repeat(
      Effect.flatMap(
        sql<{ n: number }>`SELECT count(pg_terminate_backend(pid))::int AS n FROM (
          SELECT pid FROM pg_stat_activity WHERE application_name = 'effect-pool-demo' AND pid <> pg_backend_pid()
          ORDER BY random() LIMIT 1) victims`,
        (rows) => Effect.sync(() => (terminated += rows[0]?.n ?? 0))
      ).pipe(Effect.ignore),
      Schedule.spaced("500 millis")
    ))
    let next = 0
    const worker = Effect.gen(function*() {
      while (next < total) {
        const id = next++
        const outcome = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO demo_orders ${sql.insert({ id, amount: id % 100 })}`
          yield* sql`SELECT sum(amount) FROM demo_orders WHERE id > ${id - 10}`
        })).pipe(
          Effect.as("committed" as const),
          Effect.catchAll((error) =>
            Effect.sync(() => {
              const cause = String((error.cause as Error | undefined)?.message ?? error.message).split("\n")[0]
              causes.set(cause, (causes.get(cause) ?? 0) + 1)
              return "failed" as const
            })
          ),
          // @effect/sql makes a failed COMMIT a defect: the connection died while committing
          Effect.catchAllDefect(() => Effect.succeed("unknown" as const))
        )
        if (outcome === "committed") committed++
        else if (outcome === "failed") failed++
        else unknown++
        done++
      }
    })
    yield* Effect.all(Array.from({ length: fibers }, () => worker), { concurrency: "unbounded", discard: true })
    const [{ n }] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM demo_orders`
    yield* Fiber.interrupt(refresher) // before the layer closes: the last stats are the live ones
    yield* refresh
    return {
      transactions: done,
      committed,
      rowsInTable: n,
      failed,
      unknown,
      terminated,
      causes: [...causes].map(([cause, count]) => `${count}× ${cause}`)
    } satisfies PgReport
  })

  const panel: Panel = {
    title: `pg: Postgres transactions (${fibers} fibers, ${total} transactions, a connection killed every 0.5 s)`,
    rows: () => [
      `${bar(done, total)}  ${done}/${total} transactions, ${committed} committed, ${failed} failed, ${unknown} cut off at commit, ${terminated} connections killed`,
      stats === undefined
        ? "connecting…"
        : `size ${stats.size}/${stats.max}  idle ${stats.idle}  borrowed ${stats.borrowed}  waiting ${stats.waiting}  ` +
          `created ${stats.created}  destroyed ${stats.destroyed}`
    ]
  }
  return { run, panel, layer: layer as Layer.Layer<SqlClient.SqlClient | PgPool.PgPool> }
}
