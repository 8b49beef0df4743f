// The same tasks for Effect 4's RpcClient.layerProtocolWorker pool: an RpcServer on the worker runner.
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { RpcServer } from "effect/rpc"
import { cpu } from "./tasks.mjs"
import { Tasks } from "./rpc-group.mjs"

const Handlers = Tasks.toLayer({
  Add: ({ a, b }) => Effect.succeed(a + b),
  Cpu: (input) => Effect.sync(() => cpu(input))
})

RpcServer.layer(Tasks).pipe(
  Layer.provide(Handlers),
  Layer.provide(RpcServer.layerProtocolWorkerRunner),
  Layer.provide(NodeWorkerRunner.layer),
  Layer.launch,
  NodeRuntime.runMain
)
