/**
 * `npm start`: every workload at once, with a live view of each pool, then a summary.
 * Postgres runs on an embedded server started here (or the one in DATABASE_URL).
 */
import { Effect, Fiber } from "effect"
import { databaseUrl, postgresWorkload } from "./postgres.js"
import { simulatedWorkload } from "./simulated.js"
import { live } from "./view.js"
import { localServers, webWorkload } from "./web.js"
import { workerWorkload } from "./workers.js"
import { grpcWorkload, localGrpcServer } from "./grpc.js"

const program = Effect.gen(function*() {
  const started = Date.now()
  console.log("starting Postgres…")
  const db = yield* databaseUrl
  const simulated = simulatedWorkload(Number(process.env.SIM_BORROWS ?? 3_000), 40)
  const postgres = postgresWorkload(db.url, Number(process.env.PG_TRANSACTIONS ?? 3_000), 24)
  const servers = yield* localServers
  const web = webWorkload(servers, Number(process.env.HTTP_REQUESTS ?? 5_000), 50)
  const workers = workerWorkload(Number(process.env.TILES ?? 400), 8)
  const grpcServer = yield* localGrpcServer
  const rpc = grpcWorkload(grpcServer, Number(process.env.GRPC_CALLS ?? 3_000), 40)
  const view = yield* Effect.fork(live([simulated.panel, postgres.panel, web.panel, workers.panel, rpc.panel]))
  const [sim, pg, http, tiles, calls] = yield* Effect.all([
    simulated.run.pipe(Effect.provide(simulated.layer)),
    postgres.run.pipe(Effect.provide(postgres.layer)),
    web.run.pipe(Effect.provide(web.layer)),
    workers.run.pipe(Effect.provide(workers.layer)),
    rpc.run.pipe(Effect.provide(rpc.layer))
  ], { concurrency: "unbounded" })
  yield* Fiber.interrupt(view)
  const seconds = (Date.now() - started) / 1000
  const accounted = pg.rowsInTable >= pg.committed && pg.rowsInTable <= pg.committed + pg.unknown
  console.log(`\nsummary (${seconds.toFixed(1)} s)`)
  console.log(`  simulated: ${sim.borrows} borrows, ${sim.queryFailures} failed queries (broken connections replaced)`)
  console.log(
    `  postgres (${db.embedded ? "embedded" : "DATABASE_URL"}): ${pg.transactions} transactions, ${pg.committed} committed, ` +
      `${pg.unknown} cut off while committing, ${pg.rowsInTable} rows in the table` +
      `${accounted ? " (every commit accounted for)" : " (MISMATCH)"}, ` +
      `${pg.terminated} connections killed on the server`
  )
  for (const cause of pg.causes) console.log(`    failed transaction: ${cause}`)
  console.log(
    `  http: ${http.requests} GETs, ${http.failed} failed, at most ${http.connections.join(" and ")} connections to the two origins` +
      " (sockets the server dropped were retried on fresh connections)"
  )
  console.log(
    `  workers: ${tiles.tiles} tiles blurred, ${tiles.failed} failed; ${tiles.crashes} thread crashed on purpose and was replaced ` +
      `(${tiles.threadsStarted} started, ${tiles.workers} alive)`
  )
  console.log(
    `  grpc: ${calls.calls} calls, ${calls.failed} failed, ${calls.retried} retried while the server restarted; ` +
      `${calls.channelsCreated} channels opened in all, ${calls.connectionsOpen} connections open for ${calls.channelsAlive} channels`
  )
  if (!accounted || http.failed > 0 || tiles.failed > 0 || calls.failed > 0) {
    console.error("\nFAILED: a workload lost or failed work (see above)")
    process.exitCode = 1
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
