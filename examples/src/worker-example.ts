/**
 * `npm run worker -w @effect-pool/examples`: a CPU-heavy job (blurring generated image tiles)
 * through @effect-pool/worker, with a progress bar; a thread is crashed on purpose half-way and
 * the pool carries on.
 */
import { Effect, Fiber } from "effect"
import { live } from "./view.js"
import { workerWorkload } from "./workers.js"

Effect.gen(function*() {
  const workload = workerWorkload(Number(process.env.TILES ?? 600), 16)
  const view = yield* Effect.fork(live([workload.panel]))
  const report = yield* workload.run.pipe(Effect.provide(workload.layer))
  yield* Fiber.interrupt(view)
  console.log(
    `\n${report.tiles} tiles, ${report.failed} failed; ${report.crashes} thread crashed and was replaced ` +
      `(${report.threadsStarted} threads started, ${report.workers} alive at the end)`
  )
  if (report.failed > 0 || report.crashes !== 1) throw new Error("the worker workload did not complete as expected")
}).pipe(Effect.runPromise).catch((error) => {
  console.error(error)
  process.exit(1)
})
