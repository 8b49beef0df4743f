
import { Context, Effect, Layer } from "effect"
import { WorkerPool } from "@effect-pool/worker"
let builds = 0
class Counter extends Context.Service()("Counter") {}
export default (n) => Effect.succeed(n + 1)
export const fails = () => Effect.fail({ _tag: "Nope", reason: "because" })
export const withLayer = WorkerPool.handler(
  Layer.sync(Counter, () => ({ builds: ++builds })),
  (n) => Effect.map(Counter, (c) => ({ n, builds: c.builds }))
)
