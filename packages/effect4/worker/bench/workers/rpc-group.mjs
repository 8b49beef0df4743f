// The benchmark's tasks as an Effect 4 RpcGroup, shared by the RpcClient (main) and its worker server.
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"

export class Tasks extends RpcGroup.make(
  Rpc.make("Add", { payload: { a: Schema.Number, b: Schema.Number }, success: Schema.Number }),
  Rpc.make("Cpu", { payload: { ms: Schema.Number }, success: Schema.Number })
) {}
