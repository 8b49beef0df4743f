/**
 * `npm run soak -- --minutes N`: the application's workload with the four faults injected
 * continuously, on a random schedule. At the end it checks, and prints: every acknowledged order
 * is in Postgres exactly once; nothing leaked, as the other side sees it (backends in
 * pg_stat_activity, connections at the fulfilment service, sockets at the catalogue, worker
 * threads started vs exited); the heap after warm-up stayed flat within a bound. The exit code
 * says whether all held. Run with `node --expose-gc` (the npm script does) for steady heap samples.
 */
import { Duration, Effect, Fiber, Schedule } from "effect"
import { parseArgs } from "node:util"
import pg from "pg"
import { type LocalServices, runApp } from "./run.js"

const HEAP_GROWTH_LIMIT_MB = 32

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    concurrency: { type: "string", default: "12" },
    "database-url": { type: "string" },
    help: { type: "boolean", default: false }
  }
})

if (values.help) {
  console.log("usage: npm run soak -- [--minutes N (default 1)] [--concurrency N (default 12)] [--database-url URL]")
  process.exit(0)
}

const minutes = Number(values.minutes)
const concurrency = Number(values.concurrency)
if (!(minutes > 0) || !(concurrency > 0)) {
  console.error("--minutes and --concurrency must be positive numbers")
  process.exit(2)
}

/** Polls `count` until it is 0 (a closing socket takes a moment to be seen as closed). */
const drained = (what: string, count: () => Promise<number> | number) =>
  Effect.promise(async () => {
    const deadline = Date.now() + 15_000
    let n = await count()
    while (n > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      n = await count()
    }
    return n === 0 ? [] : [`${what}: ${n} left`]
  })

const leakChecks = (local: LocalServices, threads: { readonly started: number; readonly exited: number }) =>
  Effect.map(
    Effect.all([
      drained("postgres backends of the orders pool", async () => {
        const admin = new pg.Client({ connectionString: local.postgres.url, application_name: "effect-pool-soak-check" })
        await admin.connect()
        try {
          return Number((await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'effect-pool-app'")).rows[0].n)
        } finally {
          await admin.end()
        }
      }),
      drained("connections to the fulfilment service", () => local.fulfilmentProxy.open()),
      drained("sockets at the catalogue", () => local.catalogue.sockets.open),
      Effect.succeed(threads.started === threads.exited ? [] : [`worker threads: ${threads.started - threads.exited} of ${threads.started} never exited`])
    ]),
    (found) => found.flat()
  )

const gc = (globalThis as { gc?: () => void }).gc
const heap: Array<{ at: number; mb: number }> = []
const sampleHeap = Effect.sync(() => {
  gc?.()
  heap.push({ at: Date.now(), mb: process.memoryUsage().heapUsed / 1024 / 1024 })
})
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const program = Effect.gen(function*() {
  const started = Date.now()
  const sampler = yield* Effect.fork(Effect.repeat(sampleHeap, Schedule.spaced("2 seconds")))
  const report = yield* runApp({
    orders: Number.MAX_SAFE_INTEGER,
    duration: Duration.minutes(minutes),
    concurrency,
    faults: "continuous",
    databaseUrl: values["database-url"] ?? process.env.DATABASE_URL,
    afterClose: leakChecks
  })
  yield* Fiber.interrupt(sampler)
  // heap after warm-up (the second quarter of the run) against its last quarter
  const span = Date.now() - started
  const warm = heap.filter((s) => s.at - started >= span * 0.25 && s.at - started < span * 0.5).map((s) => s.mb)
  const late = heap.filter((s) => s.at - started >= span * 0.75).map((s) => s.mb)
  const growth = median(late) - median(warm)
  const heapFlat = warm.length === 0 || late.length === 0 || growth <= HEAP_GROWTH_LIMIT_MB
  const { tally, audit } = report
  const checks: Array<[string, boolean]> = [
    [`every acknowledged order stored exactly once (${audit.stored} stored, ${tally.alreadyStored} found stored by a retry, ${audit.incomplete} incomplete)`, report.exactlyOnce],
    [`no order failed for good (${tally.failed} failed, ${tally.retries} retries)`, tally.failed === 0],
    [`no backend, connection, socket or thread left behind${report.leaks.length === 0 ? "" : `: ${report.leaks.join("; ")}`}`, report.leaks.length === 0],
    [`heap flat after warm-up: ${median(warm).toFixed(1)} MB → ${median(late).toFixed(1)} MB (limit +${HEAP_GROWTH_LIMIT_MB} MB${gc === undefined ? "; run with --expose-gc for steady samples" : ""})`, heapFlat]
  ]
  console.log(`\nsoak: ${(report.seconds / 60).toFixed(1)} min, ${tally.placed} orders, ${report.faults.length} faults injected`)
  for (const [kind, n] of [...tally.errors].sort()) console.log(`  ${String(n).padStart(6)}  ${kind}`)
  for (const [what, ok] of checks) console.log(`  ${ok ? "ok  " : "FAIL"}  ${what}`)
  return checks.every(([, ok]) => ok)
})

Effect.runPromise(program).then((ok) => {
  if (!ok) process.exitCode = 1
}, (error) => {
  console.error(error)
  process.exitCode = 1
})
