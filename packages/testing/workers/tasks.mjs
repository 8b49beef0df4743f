// The benchmarks' worker module (the test kit's `benchTasksPath`), the same file for piscina, tinypool and both
// editions' @effect-pool/worker.
export default ({ a, b }) => a + b

/** About 1 ms of CPU work. */
export const cpu = ({ ms }) => {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x++
  return x
}
