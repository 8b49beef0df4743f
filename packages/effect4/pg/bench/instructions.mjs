/**
 * Load-independent cost per query: runs ONE contender `n` times (after a warm-up) against the
 * server in PG_URL, so that `valgrind --tool=callgrind` (user-space instructions) or `strace -c -f`
 * (system calls) can count it. Two runs with different `n` give the per-query figure as their
 * difference ÷ Δn (start-up, warm-up and JIT cancel out):
 *
 *   for n in 2000 6000; do PG_URL=... valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node bench/instructions.mjs ours select1 16 false $n 2>&1 | grep refs; done
 *
 * Contenders: ours, theirs, or a path to another build's dist/index.js (e.g. a copy of the
 * previous commit's). The table `bench_items` must exist (the pg benchmarks create it).
 */
import { PgPool } from "@effect-pool/pg"
import { PgClient } from "@effect/sql-pg"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"

const [who = "ours", kind = "select1", c = "1", mux = "false", n = "2000"] = process.argv.slice(2)
const url = Redacted.make(process.env.PG_URL)
const multiplex = mux === "true"
const layer = who === "theirs"
  ? PgClient.layer({ url, maxConnections: 10, multiplex })
  : (who === "ours" ? PgPool : (await import(who)).PgPool).layer({ url, max: 10, multiplex })
const runtime = ManagedRuntime.make(layer)
let id = 0
const loop = (ops, concurrency) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    let next = 0
    const body = kind === "select1"
      ? () => sql`SELECT 1`
      : () => sql`SELECT id, name FROM bench_items WHERE id = ${1 + (id++ % 10_000)}`
    const worker = Effect.whileLoop({ while: () => next++ < ops, body, step: () => {} })
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
  })
await runtime.runPromise(loop(500, 10))
await runtime.runPromise(loop(Number(n), Number(c)))
await runtime.dispose()
