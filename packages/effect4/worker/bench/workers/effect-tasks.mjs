// The same tasks for @effect/platform's Worker.makePool (its own runner protocol).
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { Effect, Layer } from "effect"

const cpu = (ms) => {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x++
  return x
}

WorkerRunner.layer((request) => Effect.sync(() => (request.ms === undefined ? request.a + request.b : cpu(request.ms)))).pipe(
  Layer.provide(NodeWorkerRunner.layer),
  Layer.launch,
  NodeRuntime.runMain
)
