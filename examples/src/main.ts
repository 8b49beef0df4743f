/**
 * `npm start`: every workload, side by side, with a live view of each pool, then a summary.
 */
import { Effect, Fiber } from "effect"
import { simulatedWorkload } from "./simulated.js"
import { live } from "./view.js"

const program = Effect.gen(function*() {
  const started = Date.now()
  const simulated = simulatedWorkload(Number(process.env.SIM_BORROWS ?? 3_000), 40)
  const view = yield* Effect.fork(live([simulated.panel]))
  const report = yield* simulated.run.pipe(Effect.provide(simulated.layer))
  yield* Fiber.interrupt(view)
  const seconds = (Date.now() - started) / 1000
  console.log(`\nsummary (${seconds.toFixed(1)} s)`)
  console.log(`  simulated: ${report.borrows} borrows, ${report.queryFailures} failed queries (broken connections replaced)`)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
