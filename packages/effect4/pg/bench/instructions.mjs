/**
 * Cost per query that the machine's load does not move: runs ONE contender `n` times (after a
 * warm-up) against the server in PG_URL, so that `valgrind --tool=callgrind` (user-space
 * instructions) or `strace -c -f` (system calls) can count it. Two runs with different `n` give
 * the per-query figure as their difference ÷ Δn (start-up, warm-up and JIT cancel out):
 *
 *   for n in 500 2500; do PG_URL=... valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --single-threaded bench/instructions.mjs ours select1 16 false $n 2>&1 | grep refs; done
 *
 * `--single-threaded` matters: callgrind counts every thread, and V8's background compiler and
 * GC threads do an amount of work that depends on timing. Even so a GC falling into one run and
 * not the other moves the figure (same code measured 158k and 213k instructions/query at
 * n = 500/2500): repeat, and trust only differences well beyond that. System calls (strace) are
 * steadier.
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
