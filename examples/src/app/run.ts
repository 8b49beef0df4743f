/**
 * One run of the application: orders placed by `concurrency` fibers until `orders` are placed or
 * `duration` has passed, faults injected half-way (or on a random schedule, for the soak), a
 * live view of the four pools, and a report checked against the database.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { WorkerPool } from "@effect-pool/worker"
import { Duration, Effect, Fiber, Metric, Random, Schedule } from "effect"
import { bar, live, type Panel } from "../view.js"
import { type FaultName, faultNames, inject } from "./faults.js"
import { AppLive } from "./live.js"
import { TelemetryLive } from "./telemetry.js"
import { localServices, SKUS } from "./local.js"
import { emptyTally, placeOrder, type Tally } from "./pipeline.js"
import { Catalogue, Notifier, type Order, Orders, Pricing } from "./services.js"

export interface RunOptions {
  readonly orders: number
  readonly duration: Duration.DurationInput
  readonly concurrency: number
  readonly faults: "half-way" | "continuous" | "none"
  readonly databaseUrl?: string | undefined
  readonly view?: boolean | undefined
  /** Serve the metrics in Prometheus format on 127.0.0.1 at this port. */
  readonly metricsPort?: number | undefined
  /** Runs once the orders are placed, while every pool is still open (tests look inside here). */
  readonly beforeClose?: Effect.Effect<void> | undefined
  /** Runs once every pool has closed, while the local services still run: leak checks. */
  readonly afterClose?: ((local: LocalServices, threads: { readonly started: number; readonly exited: number }) => Effect.Effect<ReadonlyArray<string>>) | undefined
}

export type LocalServices = Effect.Effect.Success<ReturnType<typeof localServices>>

export interface PoolLine {
  readonly pool: string
  readonly size: number
  readonly idle: number
  readonly borrowed: number
  readonly waiting: number
  readonly p50WaitMs: number
  readonly p99WaitMs: number
}

export interface Report {
  /** What the leak checks (`afterClose`) found; empty when nothing leaked. */
  readonly leaks: ReadonlyArray<string>
  readonly seconds: number
  readonly tally: Tally
  readonly audit: { readonly stored: number; readonly incomplete: number }
  readonly faults: ReadonlyArray<string>
  readonly pools: ReadonlyArray<PoolLine>
  readonly embedded: boolean
  /** Every acknowledged order is in the database exactly once, and nothing else is. */
  readonly exactlyOnce: boolean
}

/** A quantile of the pool's wait histogram (ms; upper bucket bound), from the metrics registry. */
const waitQuantile = (pool: string, q: number) =>
  Effect.map(Metric.snapshot, (pairs) => {
    let count = 0
    const buckets = new Map<number, number>()
    for (const pair of pairs) {
      if (pair.metricKey.name !== "effect_pool_wait_ms" || !pair.metricKey.tags.some((t) => t.key === "pool" && t.value === pool)) continue
      const state = pair.metricState as unknown as { count: number; buckets: ReadonlyArray<readonly [number, number]> }
      count += state.count
      for (const [bound, n] of state.buckets) buckets.set(bound, (buckets.get(bound) ?? 0) + n)
    }
    if (count === 0) return 0
    for (const [bound, cumulative] of [...buckets].sort((a, b) => a[0] - b[0])) if (cumulative >= q * count) return bound
    return Infinity
  })

const order = (n: number): Effect.Effect<Order> =>
  Effect.gen(function*() {
    const lines = yield* Effect.forEach(Array.from({ length: 1 + (n % 3) }), () =>
      Effect.map(Effect.zip(Random.nextIntBetween(0, SKUS.length), Random.nextIntBetween(1, 4)), ([i, quantity]) => ({ sku: SKUS[i], quantity })))
    return { id: `order-${n}`, lines }
  })

export const runApp = (options: RunOptions) =>
  Effect.gen(function*() {
    const local = yield* localServices(options.databaseUrl)
    const tally = emptyTally()
    const injected: Array<string> = []
    let pools: ReadonlyArray<PoolLine> = []
    const started = Date.now()
    const deadline = started + Duration.toMillis(options.duration)
    const targets = { databaseUrl: local.postgres.url, fulfilment: local.fulfilment, catalogue: local.catalogue }

    const program = Effect.gen(function*() {
      const pricing = yield* Pricing
      const orders = yield* Orders
      const notifier = yield* Notifier
      const catalogue = yield* Catalogue
      const line = (name: string, s: { size: number; idle: number; borrowed: number; waiting: number }) =>
        Effect.map(Effect.zip(waitQuantile(name, 0.5), waitQuantile(name, 0.99)), ([p50, p99]): PoolLine => ({ pool: name, size: s.size, idle: s.idle, borrowed: s.borrowed, waiting: s.waiting, p50WaitMs: p50, p99WaitMs: p99 }))
      const refresh = Effect.gen(function*() {
        pools = yield* Effect.all([
          line("catalogue", yield* catalogue.stats),
          line("pricing", yield* WorkerPool.stats(pricing.pool)),
          line("orders", yield* orders.pool.stats),
          line("fulfilment", yield* GrpcPool.stats(notifier.pool))
        ])
      })
      const refresher = yield* Effect.fork(Effect.repeat(refresh, Schedule.spaced("100 millis")))
      const bounded = options.orders < Number.MAX_SAFE_INTEGER
      const faultCounts = () => {
        const counts = new Map<string, number>()
        for (const fault of injected) counts.set(fault.split(":")[0], (counts.get(fault.split(":")[0]) ?? 0) + 1)
        return [...counts].map(([kind, n]) => `${n}× ${kind}`).join(", ")
      }
      const panel: Panel = {
        title: `orders: ${options.concurrency} fibers placing ${bounded ? `up to ${options.orders} orders` : `orders for ${Duration.format(Duration.decode(options.duration))}`} (HTTP catalogue → worker pricing → Postgres → gRPC)`,
        rows: () => [
          `${bounded ? bar(tally.placed, options.orders) : bar(Date.now() - started, deadline - started)}  ${tally.placed} placed, ${(tally.placed / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0)} orders/s, ${tally.retries} retries, ${tally.failed} failed`,
          ...pools.map((p) => `${p.pool.padEnd(11)} ${p.size} open, ${p.idle} idle, ${p.borrowed} borrowed, ${p.waiting} waiting, p99 wait ${p.p99WaitMs === Infinity ? ">16s" : `${p.p99WaitMs} ms`}`),
          injected.length === 0 ? "faults: none yet" : `faults injected: ${faultCounts()}`
        ]
      }
      const view = options.view === false ? undefined : yield* Effect.fork(live([panel]))

      const fault = (name: FaultName) => Effect.flatMap(inject(name, targets), (what) => Effect.sync(() => injected.push(what)))
      let next = 0
      let halfWayDone = options.faults !== "half-way"
      const worker = Effect.gen(function*() {
        while (next < options.orders && Date.now() < deadline) {
          const n = next++
          if (!halfWayDone && (n >= options.orders / 2 || Date.now() > started + (deadline - started) / 2)) {
            halfWayDone = true
            yield* Effect.forkDaemon(Effect.forEach(faultNames, fault, { discard: true }))
          }
          yield* placeOrder(yield* order(n), tally)
        }
      })
      const chaos = options.faults === "continuous"
        ? yield* Effect.fork(Effect.forever(Effect.gen(function*() {
          yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(500, 2_000)))
          yield* fault(faultNames[yield* Random.nextIntBetween(0, faultNames.length)])
        })))
        : undefined
      yield* Effect.all(Array.from({ length: options.concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      if (chaos !== undefined) yield* Fiber.interrupt(chaos)
      yield* Fiber.interrupt(refresher)
      yield* refresh
      if (view !== undefined) yield* Fiber.interrupt(view)
      const audit = yield* orders.audit
      if (options.beforeClose !== undefined) yield* options.beforeClose
      return { audit, pricingPool: pricing.pool }
    })
    const { audit, pricingPool } = yield* program.pipe(
      Effect.provide(AppLive({
        catalogueOrigin: local.catalogue.origin,
        fulfilmentTarget: `127.0.0.1:${local.fulfilmentProxy.port}`,
        databaseUrl: local.postgres.url
      })),
      Effect.provide(TelemetryLive(options.metricsPort))
    )
    // the pools are closed now: what they leave behind, seen from the other side
    const threads = yield* WorkerPool.stats(pricingPool)
    const leaks = options.afterClose === undefined ? [] : yield* options.afterClose(local, threads)
    return {
      leaks,
      seconds: (Date.now() - started) / 1000,
      tally,
      audit,
      faults: injected,
      pools,
      embedded: local.postgres.embedded,
      // each order passed its store step once (fresh, or found stored by a retry), the table
      // holds exactly those (its primary key is the order id) and each with all its lines
      exactlyOnce: audit.stored === tally.stored + tally.alreadyStored && audit.incomplete === 0
    } satisfies Report
  }).pipe(Effect.scoped)
