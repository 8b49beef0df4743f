/**
 * One run of the application: orders placed by `concurrency` fibers until `orders` are placed or
 * `duration` has passed, faults injected half-way (or on a random schedule, for the soak), a
 * live view of the four pools, and a report checked against the database.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { WorkerPool } from "@effect-pool/worker"
import { Duration, Effect, Fiber, Metric, Random, Schedule } from "effect"
import { live, type Panel } from "../view.js"
import { emptyTally, exactlyOnce, type FaultName, faultNames, orderOf, type PoolLine, quantileOf, type Tally } from "./domain.js"
import { inject } from "./faults.js"
import { AppLive } from "./live.js"
import { localServices } from "./local.js"
import { placeOrder, retried } from "./pipeline.js"
import { Catalogue, Notifier, Orders, Pricing } from "./services.js"
import { TelemetryLive } from "./telemetry.js"
import { viewRows, viewTitle } from "./text.js"

export type { PoolLine } from "./domain.js"

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
    return quantileOf(count, buckets, q)
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
      const view0 = { concurrency: options.concurrency, orders: options.orders, durationText: Duration.format(Duration.decode(options.duration)) }
      const panel: Panel = {
        title: viewTitle(view0),
        rows: () => viewRows({ ...view0, started, deadline, tally, pools, injected })
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
          yield* placeOrder(orderOf(n), tally)
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
      // a read like the catalogue's, retried: a fault injected just before chaos stopped may have
      // ended the connection it lands on before the pool heard of it
      const audit = yield* retried(tally, "audit", orders.audit)
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
      exactlyOnce: exactlyOnce(audit, tally)
    } satisfies Report
  }).pipe(Effect.scoped)
