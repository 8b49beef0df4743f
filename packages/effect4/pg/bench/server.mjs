/**
 * A Postgres for `bench/instructions.mjs` (which must not own it: under valgrind it would be counted
 * too): an embedded server with the `bench_items` table, its URL printed on stdout, stopped when
 * stdin closes.
 *
 *   node bench/server.mjs > /tmp/pg-url < some-fifo &
 */
import { prepareBenchTable, startServer } from "@effect-pool/testing/servers"
const server = await startServer()
await prepareBenchTable(server.url)
console.log(server.url)
process.stdin.resume()
process.stdin.on("end", async () => { await server.dispose(); process.exit(0) })
