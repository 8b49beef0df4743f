/**
 * The Postgres the pg benchmarks of both editions measure against, and its one table: no effect
 * import (`@effect-pool/testing/servers`), so the Effect 3 bench, the Effect 4 benches and the
 * Effect 4 root's `bench/server.mjs` prepare the same `bench_items` the same way.
 */
import pg from "pg"
import { startServer } from "./postgres.js"

/** How many rows `bench_items` has: ids 1 to this. */
export const BENCH_ITEMS = 10_000

/** The id of a row of `bench_items`, uniformly at random (a primary-key lookup's argument). */
export const randomBenchItemId = (): number => 1 + Math.floor(Math.random() * BENCH_ITEMS)

/**
 * (Re)creates `bench_items (id int primary key, name text)` on the server at `url`: rows 1 to
 * `BENCH_ITEMS`, named `item <id>`, analysed (the planner's statistics are current). One
 * connection, closed before it resolves, whether the setup succeeds or not.
 */
export const prepareBenchTable = async (url: string): Promise<void> => {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query("DROP TABLE IF EXISTS bench_items")
    await admin.query("CREATE TABLE bench_items (id int primary key, name text)")
    await admin.query("INSERT INTO bench_items SELECT g, 'item ' || g FROM generate_series(1, $1::int) g", [BENCH_ITEMS])
    await admin.query("ANALYZE bench_items")
  } finally {
    await admin.end()
  }
}

/** A benchmark's server: its URL, and `dispose` (stops the embedded server; nothing for an external one). */
export interface BenchDatabase {
  readonly url: string
  readonly dispose: () => Promise<void>
}

/**
 * The server a benchmark measures against, `bench_items` prepared: the one in `PG_URL` (or
 * `DATABASE_URL`) when set, else a fresh embedded Postgres (stopped again if the setup fails).
 */
export const benchDatabase = async (): Promise<BenchDatabase> => {
  const external = process.env.PG_URL ?? process.env.DATABASE_URL
  const server = external === undefined ? await startServer() : undefined
  const url = external ?? server!.url
  try {
    await prepareBenchTable(url)
  } catch (error) {
    await server?.dispose()
    throw error
  }
  return { url, dispose: async () => void (await server?.dispose()) }
}
