/**
 * Placing one order: fetch its items from the catalogue, price it on a worker thread, store it
 * in a transaction, notify fulfilment. Each step is retried where that is safe — reads and
 * pricing always; the store too, because the order id is an idempotency key (a retry after an
 * attempt whose COMMIT outcome was not seen finds the order already stored); the notification
 * is at-least-once. Errors are tallied by their type's tag.
 */
import { Effect, Schedule } from "effect"
import { Catalogue, Notifier, type Order, Orders, Pricing } from "./services.js"

export interface Tally {
  placed: number
  stored: number
  /** Store attempts that found their order already stored (an earlier attempt had committed). */
  alreadyStored: number
  failed: number
  retries: number
  readonly errors: Map<string, number>
}

export const emptyTally = (): Tally => ({ placed: 0, stored: 0, alreadyStored: 0, failed: 0, retries: 0, errors: new Map() })

const tagOf = (error: unknown): string => (error as { _tag?: string })?._tag ?? "Error"

/** Retries `step`, tallying every failure seen by its tag. */
const retried = <A, E, R>(tally: Tally, step: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.tapError((error) =>
      Effect.sync(() => {
        const key = `${step}: ${tagOf(error)}`
        tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1)
        tally.retries++
      })),
    Effect.retry(Schedule.exponential("20 millis", 1.5).pipe(Schedule.union(Schedule.spaced("500 millis")), Schedule.intersect(Schedule.recurs(20))))
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
  }).pipe(Effect.tapError(() => Effect.sync(() => tally.failed++)), Effect.either)
