/**
 * The order pipeline's services, as `Context.Tag`s: what the application needs, not how it is
 * done. Their live layers (live.ts) are built on the four pool layers.
 */
import type { GrpcPool } from "@effect-pool/grpc"
import type { PgPool } from "@effect-pool/pg"
import type { WorkerError, WorkerPool } from "@effect-pool/worker"
import type { HttpClientError } from "@effect/platform"
import type { SqlError } from "@effect/sql"
import { Context, Data, type Effect } from "effect"
import type { ParseError } from "effect/ParseResult"
import type { Item, Order, Priced, PricingInput } from "./domain.js"

export type { Item, Order, OrderLine, Priced, PricingInput } from "./domain.js"

/** The catalogue service, over HTTP. */
export class Catalogue extends Context.Tag("app/Catalogue")<Catalogue, {
  readonly item: (sku: string) => Effect.Effect<Item, HttpClientError.HttpClientError | ParseError>
  /** The connection pool of the catalogue's origin, for the view. */
  readonly stats: Effect.Effect<{ readonly size: number; readonly idle: number; readonly borrowed: number; readonly waiting: number }>
}>() {}

/** Prices orders on worker threads (CPU work). */
export class Pricing extends Context.Tag("app/Pricing")<Pricing, {
  readonly price: (order: Order, items: ReadonlyArray<Item>) => Effect.Effect<Priced, WorkerError.WorkerError>
  /** The pool, for the view and the fault injector. */
  readonly pool: WorkerPool.WorkerPool<PricingInput, Priced>
}>() {}

/**
 * The transaction's COMMIT failed (its connection died while committing): it may or may not
 * have committed. @effect/sql reports that as a defect; the store turns it into this error,
 * which is safe to retry because the order id is an idempotency key.
 */
export class CommitOutcomeUnknown extends Data.TaggedError("CommitOutcomeUnknown")<{ readonly cause: unknown }> {}

/** Stores orders in Postgres, exactly once per id. */
export class Orders extends Context.Tag("app/Orders")<Orders, {
  /** Stores the order in a transaction; `false` when it was stored before (a retry). */
  readonly store: (order: Order, priced: Priced) => Effect.Effect<boolean, SqlError.SqlError | CommitOutcomeUnknown>
  /** Orders stored, and stored orders missing lines (must be 0: each order is one transaction). */
  readonly audit: Effect.Effect<{ readonly stored: number; readonly incomplete: number }, SqlError.SqlError>
  readonly pool: PgPool.PgPool["Type"]
}>() {}

/** Tells the fulfilment service about an order, over gRPC. */
export class Notifier extends Context.Tag("app/Notifier")<Notifier, {
  readonly notify: (order: Order, priced: Priced) => Effect.Effect<void, GrpcPool.CallError>
  readonly pool: GrpcPool.GrpcPool
}>() {}
