/**
 * Instructions per operation, load-independent: runs ONE contender of the core benchmark `n`
 * times (after a warm-up) so that `valgrind --tool=callgrind` can count it. Two runs with
 * different `n` give the per-op count as their difference ÷ Δn (start-up and JIT cancel out):
 *
 *   for n in 20000 120000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node bench/instructions.mjs ours-use $n 2>&1 | grep refs; done
 *
 * Contenders: ours-use, theirs-use, ours-get, theirs-get. (The shared machine's load moves
 * wall-clock figures; instruction counts do not move with it.)
 */
import { Effect, Pool as EffectPool, Scope } from "effect"
import { Pool } from "@effect-pool/core"

const [which = "ours-use", n = "20000"] = process.argv.slice(2)
const ops = Number(n)
const conn = () => ({ id: Math.random() })
const scope = Effect.runSync(Scope.make())
const inScope = (effect) => Effect.runPromise(Scope.provide(effect, scope))
const loop = (body) => Effect.gen(function*() { for (let i = 0; i < ops; i++) yield* body() })

let body
if (which.startsWith("ours")) {
  const ours = await inScope(Pool.make({ acquire: Effect.sync(conn), min: 10, max: 10 }))
  await Effect.runPromise(Pool.awaitMin(ours))
  body = which === "ours-use" ? () => Pool.use(ours, Effect.succeed) : () => Effect.scoped(Pool.get(ours))
} else {
  const theirs = await inScope(EffectPool.make({ acquire: Effect.sync(conn), size: 10 }))
  await Effect.runPromise(EffectPool.use(theirs, () => Effect.void))
  body = which === "theirs-use" ? () => EffectPool.use(theirs, Effect.succeed) : () => Effect.scoped(EffectPool.get(theirs))
}
const warm = 20_000
const run = Effect.gen(function*() { for (let i = 0; i < warm; i++) yield* body() })
await Effect.runPromise(run) // warm-up (JIT), the same in every run
await Effect.runPromise(loop(body))
process.exit(0)
