
import { Schema } from "effect"
import { WorkerPool } from "@effect-pool/worker"
export default WorkerPool.handler(
  { input: Schema.Struct({ n: Schema.NumberFromString }), output: Schema.Struct({ at: Schema.DateFromString }) },
  ({ n }) => ({ at: new Date(n) })
)
