/**
 * `npm run soak:effect3 -- --minutes N`: the application's workload on the Effect 3 edition with
 * the four faults injected continuously, on a random schedule. At the end it checks, and prints:
 * every acknowledged order is in Postgres exactly once; nothing leaked, as the other side sees it
 * (backends in pg_stat_activity, connections at the fulfilment service, sockets at the catalogue,
 * worker threads started vs exited); the heap after warm-up stayed flat within a bound. The exit
 * code says whether all held. Run with `node --expose-gc` (the npm script does) for steady heap
 * samples. The checks and the report are shared with the Effect 4 soak (domain.ts, text.ts).
 */
import { Duration, Effect, Fiber, Schedule } from "effect"
import { leaksAfterClose } from "./domain.js"
import { type LocalServices, runApp } from "./run.js"
import { heapSampler, parseSoak, soakReport } from "./text.js"

const args = parseSoak()

const leakChecks = (local: LocalServices, threads: { readonly started: number; readonly exited: number }) =>
  Effect.promise(() => leaksAfterClose(local, threads))

const heap = heapSampler()

const program = Effect.gen(function*() {
  const started = Date.now()
  const sampler = yield* Effect.fork(Effect.repeat(Effect.sync(heap.sample), Schedule.spaced("2 seconds")))
  const report = yield* runApp({
    orders: Number.MAX_SAFE_INTEGER,
    duration: Duration.minutes(args.minutes),
    concurrency: args.concurrency,
    faults: "continuous",
    databaseUrl: args.databaseUrl,
    afterClose: leakChecks
  })
  yield* Fiber.interrupt(sampler)
  return soakReport("Effect 3", report, heap.verdict(started))
})

Effect.runPromise(program).then((ok) => {
  if (!ok) process.exitCode = 1
}, (error) => {
  console.error(error)
  process.exitCode = 1
})
