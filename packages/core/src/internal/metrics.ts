/**
 * The pool's Effect `Metric`s. The borrow/return fast path never touches a metric: counts live
 * in plain fields of the state and are copied into gauges and counters by `refresh`, which runs
 * on a schedule, on `stats` and at close. Wait and create times are recorded where they happen
 * (slow paths only).
 *
 * @internal
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import type { PoolState } from "@effect-pool/engine/state"

const timeBoundaries = MetricBoundaries.exponential({ start: 0.5, factor: 2, count: 16 })

const gauges = {
  size: Metric.gauge("effect_pool_size", { description: "items alive (idle + borrowed)" }),
  idle: Metric.gauge("effect_pool_idle", { description: "idle items" }),
  borrowed: Metric.gauge("effect_pool_borrowed", { description: "active borrows" }),
  waiting: Metric.gauge("effect_pool_waiting", { description: "borrowers waiting" }),
  creating: Metric.gauge("effect_pool_creating", { description: "creations under way" }),
  suspended: Metric.gauge("effect_pool_suspended", { description: "items out of rotation after a failed health check" })
}

const counters = {
  created: Metric.counter("effect_pool_created_total", { description: "items created" }),
  destroyed: Metric.counter("effect_pool_destroyed_total", { description: "items destroyed" }),
  timeouts: Metric.counter("effect_pool_timeouts_total", { description: "borrowers timed out" }),
  failures: Metric.counter("effect_pool_create_failures_total", { description: "failed creation attempts" }),
  borrows: Metric.counter("effect_pool_borrows_total", { description: "borrows served" })
}

const histograms = {
  wait: Metric.histogram("effect_pool_wait_ms", timeBoundaries, "time borrowers waited for an item (ms)"),
  create: Metric.histogram("effect_pool_create_ms", timeBoundaries, "time to create an item (ms)"),
  use: Metric.histogram("effect_pool_use_ms", timeBoundaries, "time items were held (ms, sampled)")
}

type CounterName = keyof typeof counters

/** The metrics of one pool (or one key of a keyed pool), with their labels. */
export class PoolMetrics {
  private readonly tags: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly reported: Record<CounterName, number> = {
    created: 0,
    destroyed: 0,
    timeouts: 0,
    failures: 0,
    borrows: 0
  }

  constructor(labels: Record<string, string>) {
    this.tags = Object.entries(labels).map(([key, value]) => MetricLabel.make(key, value))
  }

  /** Copies the state's counts into the gauges and counters. */
  refresh(state: PoolState<any>): void {
    const tags = this.tags
    gauges.size.unsafeUpdate(state.items.size, tags)
    gauges.idle.unsafeUpdate(state.idle.length, tags)
    gauges.borrowed.unsafeUpdate(state.borrowers, tags)
    gauges.waiting.unsafeUpdate(state.waiters.length, tags)
    gauges.creating.unsafeUpdate(state.creating, tags)
    gauges.suspended.unsafeUpdate(state.suspended, tags)
    for (const name of Object.keys(counters) as Array<CounterName>) {
      const delta = state[name] - this.reported[name]
      if (delta > 0) {
        counters[name].unsafeUpdate(delta, tags)
        this.reported[name] = state[name]
      }
    }
  }

  waited(ms: number): void {
    histograms.wait.unsafeUpdate(ms, this.tags)
  }

  createdIn(ms: number): void {
    histograms.create.unsafeUpdate(ms, this.tags)
  }

  used(ms: number): void {
    histograms.use.unsafeUpdate(ms, this.tags)
  }
}
