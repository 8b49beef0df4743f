
import { threadId, workerData } from "node:worker_threads"
export default ({ a, b }) => a + b
export const double = (n) => Promise.resolve(n * 2)
export const thread = () => threadId
export const data = () => workerData
export const env = () => process.env.EFFECT_POOL_TEST
export const wait = (ms) => new Promise((resolve) => setTimeout(() => resolve(threadId), ms))
// blocks its thread until n tasks have arrived (each on its own thread)
export const meet = ([i32, n]) => {
  Atomics.add(i32, 0, 1)
  Atomics.notify(i32, 0)
  for (let seen; (seen = Atomics.load(i32, 0)) < n;) Atomics.wait(i32, 0, seen)
  return threadId
}
export const bytes = (buffer) => ({ length: buffer.byteLength, sum: new Uint8Array(buffer).reduce((s, x) => s + x, 0) })
