/**
 * The core on its own: a pool of simulated connections — creation takes 5–40 ms and fails 10%
 * of the time, one query in 200 breaks its connection — serving thousands of borrows from many
 * fibers. Shows the pool healing: failed creations are retried, broken connections replaced.
 */
import { Pool } from "@effect-pool/core"
import { Context, Effect, Fiber, type Layer, Random } from "effect"
import { bar, type Panel } from "./view.js"

export interface SimConnection {
  readonly id: number
  broken: boolean
}

/** The pool as a service. */
export class SimPool extends Context.Tag("examples/SimPool")<SimPool, Pool.Pool<SimConnection, Error>>() {}

let nextId = 0

const connect: Effect.Effect<SimConnection, Error> = Effect.gen(function*() {
  yield* Effect.sleep(`${yield* Random.nextIntBetween(5, 40)} millis`)
  if ((yield* Random.next) < 0.1) return yield* Effect.fail(new Error("connection refused (simulated)"))
  return { id: nextId++, broken: false }
})

/** `Pool.layer`: the pool lives as long as the layer. */
export const SimPoolLive = Pool.layer(SimPool, {
  name: "simulated",
  acquire: connect,
  min: 2,
  max: 8,
  idleTimeout: "30 seconds",
  acquireTimeout: "5 seconds",
  // a connection found broken is not lent again
  recycle: (conn) => (conn.broken ? Effect.fail("broken") : Effect.void)
})

export interface SimReport {
  readonly borrows: number
  readonly queryFailures: number
}

/** `total` borrows from `fibers` concurrent fibers; progress is readable through the panel. */
export const simulatedWorkload = (total: number, fibers: number) => {
  let done = 0
  let queryFailures = 0
  let stats: Pool.PoolStats | undefined
  const query = (conn: SimConnection) =>
    Effect.gen(function*() {
      yield* Effect.sleep(`${yield* Random.nextIntBetween(1, 6)} millis`)
      if ((yield* Random.next) < 0.005) {
        conn.broken = true
        return yield* Effect.fail(new Error(`connection ${conn.id} broke mid-query`))
      }
    })
  const run = Effect.gen(function*() {
    const pool = yield* SimPool
    const refresh = Effect.flatMap(Pool.stats(pool), (s) => Effect.sync(() => (stats = s)))
    const worker = Effect.gen(function*() {
      while (done < total) {
        done++
        yield* Pool.use(pool, query).pipe(Effect.catchAll(() => Effect.sync(() => queryFailures++)))
      }
    })
    const refresher = yield* Effect.fork(Effect.forever(Effect.zipRight(refresh, Effect.sleep("50 millis"))))
    yield* Effect.all(Array.from({ length: fibers }, () => worker), { concurrency: "unbounded", discard: true })
    yield* Fiber.interrupt(refresher) // before the layer closes: the last stats are the live ones
    yield* refresh
    return { borrows: done, queryFailures } satisfies SimReport
  })
  const panel: Panel = {
    title: `core: simulated connections (${fibers} fibers, ${total} borrows)`,
    rows: () => [
      `${bar(done, total)}  ${done}/${total} borrows, ${queryFailures} failed queries`,
      stats === undefined
        ? "starting…"
        : `size ${stats.size}/${stats.max}  idle ${stats.idle}  borrowed ${stats.borrowed}  waiting ${stats.waiting}  ` +
          `creating ${stats.creating}  created ${stats.created}  destroyed ${stats.destroyed}  failed creations ${stats.failures}`
    ]
  }
  return { run, panel, layer: SimPoolLive as Layer.Layer<SimPool, unknown> }
}
