/**
 * `npm run soak -- --minutes N`: the application's workload on the Effect 4 edition with the four
 * faults injected continuously, on a random schedule; at the end the same checks as the Effect 3
 * soak (exactly once, nothing left behind at the other side, a flat heap), from the shared
 * domain.ts/text.ts. The exit code says whether all held. Run with `node --expose-gc`.
 */
import { Duration, Effect, Fiber, Schedule } from "effect"
import { leaksAfterClose } from "../../../../examples/dist/app/domain.js"
import { heapSampler, parseSoak, soakReport } from "../../../../examples/dist/app/text.js"
import { type LocalServices, runApp } from "./run.js"

const args = parseSoak()

const leakChecks = (local: LocalServices, threads: { readonly started: number; readonly exited: number }) =>
  Effect.promise(() => leaksAfterClose(local, threads))

const heap = heapSampler()

const program = Effect.gen(function*() {
  const started = Date.now()
  const sampler = yield* Effect.forkChild(Effect.repeat(Effect.sync(heap.sample), Schedule.spaced("2 seconds")))
  const report = yield* runApp({
    orders: Number.MAX_SAFE_INTEGER,
    duration: Duration.minutes(args.minutes),
    concurrency: args.concurrency,
    faults: "continuous",
    databaseUrl: args.databaseUrl,
    afterClose: leakChecks
  })
  yield* Fiber.interrupt(sampler)
  return soakReport(`Effect 4, Node ${process.versions.node}`, report, heap.verdict(started))
})

Effect.runPromise(program).then((ok) => {
  if (!ok) process.exitCode = 1
}, (error) => {
  console.error(error)
  process.exitCode = 1
})
