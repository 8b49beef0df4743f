/**
 * The pool's Effect `Metric`s. The borrow/return fast path never touches a metric: counts live
 * in plain fields of the state and are copied into gauges and counters by `refresh`, which runs
 * on a schedule, on `stats` and at close. Wait and create times are recorded where they happen
 * (slow paths only).
 *
 * Effect 4 metrics carry their attributes (`pool`, and `key` for a keyed pool's keys) and live
 * in the `MetricRegistry` of the context the pool was made in.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import type { PoolState } from "@effect-pool/engine/state"

const timeBoundaries = Metric.exponentialBoundaries({ start: 0.5, factor: 2, count: 16 })

const gaugeSpecs = {
  size: ["effect_pool_size", "items alive (idle + borrowed)"],
  idle: ["effect_pool_idle", "idle items"],
  borrowed: ["effect_pool_borrowed", "active borrows"],
  waiting: ["effect_pool_waiting", "borrowers waiting"],
  creating: ["effect_pool_creating", "creations under way"],
  suspended: ["effect_pool_suspended", "items out of rotation after a failed health check"]
} as const

const counterSpecs = {
  created: ["effect_pool_created_total", "items created"],
  destroyed: ["effect_pool_destroyed_total", "items destroyed"],
  timeouts: ["effect_pool_timeouts_total", "borrowers timed out"],
  failures: ["effect_pool_create_failures_total", "failed creation attempts"],
  borrows: ["effect_pool_borrows_total", "borrows served"]
} as const

const histogramSpecs = {
  wait: ["effect_pool_wait_ms", "time borrowers waited for an item (ms)"],
  create: ["effect_pool_create_ms", "time to create an item (ms)"],
  use: ["effect_pool_use_ms", "time items were held (ms, sampled)"]
} as const

type GaugeName = keyof typeof gaugeSpecs
type CounterName = keyof typeof counterSpecs
type HistogramName = keyof typeof histogramSpecs

const gaugeNames = Object.keys(gaugeSpecs) as Array<GaugeName>
const counterNames = Object.keys(counterSpecs) as Array<CounterName>

/** The metrics of one pool (or one key of a keyed pool), with their attributes. */
export class PoolMetrics {
  private readonly gauges: Record<GaugeName, Metric.Gauge<number>>
  private readonly counters: Record<CounterName, Metric.Counter<number>>
  private readonly histograms: Record<HistogramName, Metric.Histogram<number>>
  private readonly reported: Record<CounterName, number> = {
    created: 0,
    destroyed: 0,
    timeouts: 0,
    failures: 0,
    borrows: 0
  }

  constructor(
    attributes: Record<string, string>,
    /** The context the pool was made in: its `MetricRegistry` holds the series. */
    private readonly context: Context.Context<never>
  ) {
    const map = <N extends string, M>(specs: Record<N, readonly [string, string]>, f: (id: string, description: string) => M) =>
      Object.fromEntries(Object.entries<readonly [string, string]>(specs).map(([name, [id, description]]) => [name, f(id, description)])) as Record<N, M>
    this.gauges = map(gaugeSpecs, (id, description) => Metric.gauge(id, { description, attributes }))
    this.counters = map(counterSpecs, (id, description) => Metric.counter(id, { description, attributes, incremental: true }))
    this.histograms = map(histogramSpecs, (id, description) => Metric.histogram(id, { description, attributes, boundaries: timeBoundaries }))
  }

  /** Copies the state's counts into the gauges and counters. */
  refresh(state: PoolState<any>): void {
    const context = this.context
    const gauges = this.gauges
    gauges.size.updateUnsafe(state.items.size, context)
    gauges.idle.updateUnsafe(state.idle.length, context)
    gauges.borrowed.updateUnsafe(state.borrowers, context)
    gauges.waiting.updateUnsafe(state.waiters.length, context)
    gauges.creating.updateUnsafe(state.creating, context)
    gauges.suspended.updateUnsafe(state.suspended, context)
    for (const name of counterNames) {
      const delta = state[name] - this.reported[name]
      if (delta > 0) {
        this.counters[name].updateUnsafe(delta, context)
        this.reported[name] = state[name]
      }
    }
  }

  waited(ms: number): void {
    this.histograms.wait.updateUnsafe(ms, this.context)
  }

  createdIn(ms: number): void {
    this.histograms.create.updateUnsafe(ms, this.context)
  }

  used(ms: number): void {
    this.histograms.use.updateUnsafe(ms, this.context)
  }
}

/** The gauge names, for tests and docs. */
export const metricNames: ReadonlyArray<string> = [
  ...gaugeNames.map((name) => gaugeSpecs[name][0]),
  ...counterNames.map((name) => counterSpecs[name][0]),
  ...Object.values(histogramSpecs).map(([id]) => id)
]
