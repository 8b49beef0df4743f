/** The benchmarks' shared harness (Effect 3): the edition-free parts plus an Effect 3 loop. */
import * as Effect from "effect/Effect"

export * from "./bench-stats.js"

/** `ops` runs of `body` with `concurrency` fibers (`whileLoop`: `Effect.repeatN` adds ~1 µs a run). */
export const effectLoop = <X, Y, Z>(ops: number, concurrency: number, body: () => Effect.Effect<X, Y, Z>): Effect.Effect<void, Y, Z> =>
  Effect.suspend(() => {
    let next = 0
    const worker = Effect.whileLoop({ while: () => next++ < ops, body, step: () => {} })
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
  })
