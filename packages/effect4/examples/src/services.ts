/**
 * The order pipeline's services on Effect 4, as `Context.Service` classes: what the application
 * needs, not how it is done. Their live layers (live.ts) are built on the four pool layers. The
 * order types are the Effect 3 app's (examples/src/app/domain.ts, no effect import).
 */
import type { GrpcPool } from "@effect-pool/grpc"
import type { PgPool } from "@effect-pool/pg"
import type { WorkerError, WorkerPool } from "@effect-pool/worker"
import { Context, Data, type Effect, type Schema } from "effect"
import type { HttpClientError } from "effect/http/HttpClientError"
import type { SqlError } from "effect/sql/SqlError"
import type { Audit, Item, Order, Priced, PricingInput } from "../../../../examples/dist/app/domain.js"

/** The counts of one pool the view shows. */
export interface PoolCounts {
  readonly size: number
  readonly idle: number
  readonly borrowed: number
  readonly waiting: number
}

/** The catalogue service, over HTTP. */
export class Catalogue extends Context.Service<Catalogue, {
  readonly item: (sku: string) => Effect.Effect<Item, HttpClientError | Schema.SchemaError>
  /** The connection pool of the catalogue's origin, for the view. */
  readonly stats: Effect.Effect<PoolCounts>
}>()("app/Catalogue") {}

/** Prices orders on worker threads (CPU work). */
export class Pricing extends Context.Service<Pricing, {
  readonly price: (order: Order, items: ReadonlyArray<Item>) => Effect.Effect<Priced, WorkerError.WorkerError>
  /** The pool, for the view and the fault injector. */
  readonly pool: WorkerPool.WorkerPool<PricingInput, Priced>
}>()("app/Pricing") {}

/**
 * The transaction's COMMIT failed (its connection died while committing): it may or may not
 * have committed. Safe to retry because the order id is an idempotency key. Same `_tag` as the
 * Effect 3 app's.
 */
export class CommitOutcomeUnknown extends Data.TaggedError("CommitOutcomeUnknown")<{ readonly cause: unknown }> {}

/** Stores orders in Postgres, exactly once per id. */
export class Orders extends Context.Service<Orders, {
  /** Stores the order in a transaction; `false` when it was stored before (a retry). */
  readonly store: (order: Order, priced: Priced) => Effect.Effect<boolean, SqlError | CommitOutcomeUnknown>
  /** Orders stored, and stored orders missing lines (must be 0: each order is one transaction). */
  readonly audit: Effect.Effect<Audit, SqlError>
  readonly pool: PgPool.PgPool["Service"]
}>()("app/Orders") {}

/** Tells the fulfilment service about an order, over gRPC. */
export class Notifier extends Context.Service<Notifier, {
  readonly notify: (order: Order, priced: Priced) => Effect.Effect<void, GrpcPool.CallError>
  readonly pool: GrpcPool.GrpcPool
}>()("app/Notifier") {}
