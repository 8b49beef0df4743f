/**
 * Placing one order: fetch its items from the catalogue, price it on a worker thread, store it
 * in a transaction, notify fulfilment. Each step is retried where that is safe — reads and
 * pricing always; the store too, because the order id is an idempotency key; the notification
 * is at-least-once. Errors are tallied by their type's tag (the tally is shared, domain.ts).
 */
import { Duration, Effect, Schedule } from "effect"
import { type Order, retryPolicy, type Tally, tallyFailure } from "../../../../examples/dist/app/domain.js"
import { Catalogue, Notifier, Orders, Pricing } from "./services.js"

const schedule = Schedule.min([
  Schedule.exponential(Duration.millis(retryPolicy.baseMillis), retryPolicy.factor),
  Schedule.spaced(Duration.millis(retryPolicy.capMillis))
])

/** Retries `step`, tallying every failure seen by its tag. */
export const retried = <A, E, R>(tally: Tally, step: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.tapError((error) => Effect.sync(() => tallyFailure(tally, step, error))),
    Effect.retry({ schedule, times: retryPolicy.retries })
  )

export const placeOrder = (order: Order, tally: Tally) =>
  Effect.gen(function*() {
    const catalogue = yield* Catalogue
    const pricing = yield* Pricing
    const orders = yield* Orders
    const notifier = yield* Notifier
    const items = yield* Effect.forEach(order.lines, (line) => retried(tally, "catalogue", catalogue.item(line.sku)), { concurrency: "unbounded" })
    const priced = yield* retried(tally, "pricing", pricing.price(order, items))
    const fresh = yield* retried(tally, "store", orders.store(order, priced))
    if (fresh) tally.stored++
    else tally.alreadyStored++
    yield* retried(tally, "notify", notifier.notify(order, priced))
    tally.placed++
  }).pipe(Effect.tapError(() => Effect.sync(() => tally.failed++)), Effect.result)
