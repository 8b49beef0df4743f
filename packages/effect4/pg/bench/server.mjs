/**
 * A Postgres for `bench/instructions.mjs` (which must not own it: under valgrind it would be counted
 * too): an embedded server with the `bench_items` table, its URL printed on stdout, stopped when
 * stdin closes.
 *
 *   node bench/server.mjs > /tmp/pg-url < some-fifo &
 */
import { startServer } from "@effect-pool/testing/servers"
import pg from "pg"
const server = await startServer()
const admin = new pg.Client({ connectionString: server.url })
await admin.connect()
await admin.query("CREATE TABLE bench_items (id int primary key, name text)")
await admin.query("INSERT INTO bench_items SELECT g, 'item ' || g FROM generate_series(1, 10000) g")
await admin.query("ANALYZE bench_items")
await admin.end()
console.log(server.url)
process.stdin.resume()
process.stdin.on("end", async () => { await server.dispose(); process.exit(0) })
