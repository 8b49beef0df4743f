/**
 * The live layers on Effect 4: each service built on its pool's layer. `AppLive` is the
 * application's whole layer graph — four pools, four services — in one place.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { HttpPool } from "@effect-pool/http"
import { PgPool } from "@effect-pool/pg"
import { echoPackage } from "@effect-pool/testing-effect4"
import { WorkerPool } from "@effect-pool/worker"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as SqlClient from "effect/sql/SqlClient"
import { SqlError } from "effect/sql/SqlError"
import { applicationName, type Audit, auditQuery, createTables, linesTable, ordersTable, type Priced, type PricingInput } from "../../../../examples/dist/app/domain.js"
import { Catalogue, CommitOutcomeUnknown, Notifier, Orders, Pricing } from "./services.js"

export interface Endpoints {
  readonly catalogueOrigin: string
  readonly fulfilmentTarget: string
  readonly databaseUrl: string
}

/** An order has at least one line (domain.ts's `orderOf`), so its rows are a non-empty batch. */
type NonEmptyRows = readonly [Record<string, unknown>, ...Array<Record<string, unknown>>]

const ItemSchema = Schema.Struct({ sku: Schema.String, name: Schema.String, priceCents: Schema.Number })

/** Catalogue over HTTP, on a per-origin keep-alive pool. */
const CatalogueLive = (origin: string) =>
  Layer.effect(Catalogue, Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    const pool = yield* HttpPool.HttpPool
    return {
      stats: Effect.map(pool.stats, (s) => s.perKey.get(new URL(origin).origin) ?? { size: 0, idle: 0, borrowed: 0, waiting: 0 }),
      item: (sku: string) => Effect.flatMap(client.get(`${origin}/items/${sku}`), HttpClientResponse.schemaBodyJson(ItemSchema))
    }
  })).pipe(Layer.provide(HttpPool.layer({ name: "catalogue", maxConnectionsPerOrigin: 8, idleTimeout: "30 seconds" })))

class PricingPool extends Context.Service<PricingPool, WorkerPool.WorkerPool<PricingInput, Priced>>()("app/PricingPool") {}

/** Pricing on worker threads: the Effect 3 app's worker file (no effect import), built. */
const PricingLive = Layer.effect(Pricing, Effect.gen(function*() {
  const pool = yield* PricingPool
  return { price: (order, items) => WorkerPool.run(pool, { order, items }), pool }
})).pipe(Layer.provide(WorkerPool.layer(PricingPool, {
  filename: new URL("../../../../examples/dist/app/pricing-worker.js", import.meta.url),
  poolName: "pricing",
  minWorkers: 2,
  maxWorkers: 2,
  taskTimeout: "10 seconds"
})))

export { linesTable, ordersTable }

/** Orders in Postgres: one transaction per order, the order id as idempotency key. */
const OrdersLive = (url: string) =>
  Layer.effect(Orders, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pool = yield* PgPool.PgPool
    for (const statement of createTables) yield* sql.unsafe(statement)
    return {
      pool,
      store: (order, priced) =>
        sql.withTransaction(Effect.gen(function*() {
          const inserted = yield* sql`INSERT INTO ${sql(ordersTable)} ${sql.insert({ id: order.id, total_cents: priced.totalCents, line_count: priced.lines.length })} ON CONFLICT (id) DO NOTHING RETURNING id`
          if (inserted.length === 0) return false // stored by an earlier attempt whose outcome we did not see
          yield* sql`INSERT INTO ${sql(linesTable)} ${sql.insert(priced.lines.map((l) => ({ order_id: order.id, sku: l.sku, quantity: l.quantity, unit_cents: l.unitCents })) as unknown as NonEmptyRows)}`
          return true
        })).pipe(Effect.catchDefect((defect) =>
          defect instanceof SqlError ? Effect.fail(new CommitOutcomeUnknown({ cause: defect })) : Effect.die(defect)
        )),
      audit: Effect.map(sql.unsafe<Audit>(auditQuery), (rows) => ({ stored: rows[0].stored, incomplete: rows[0].incomplete }))
    }
  })).pipe(Layer.provide(PgPool.layer({ url: Redacted.make(url), name: "orders", applicationName, max: 8, min: 2 })))

class FulfilmentPool extends Context.Service<FulfilmentPool, GrpcPool.GrpcPool>()("app/FulfilmentPool") {}

/** Fulfilment notifications over gRPC (the Echo service stands in for it). */
const NotifierLive = (target: string) =>
  Layer.effect(Notifier, Effect.gen(function*() {
    const pool = yield* FulfilmentPool
    const fulfilment = GrpcPool.client<{ readonly unary: GrpcPool.Unary<{ text: string; n: number }, unknown> }>(pool, echoPackage().Echo)
    return {
      pool,
      notify: (order, priced) => Effect.asVoid(fulfilment.unary({ text: order.id, n: priced.totalCents }, { timeout: "5 seconds" }))
    }
  })).pipe(Layer.provide(GrpcPool.layer(FulfilmentPool, {
    target,
    name: "fulfilment",
    minChannels: 1,
    maxChannels: 3,
    maxConcurrentStreamsPerChannel: 8,
    connectTimeout: "1 second",
    acquireTimeout: "5 seconds"
  })))

/** The application: four services on four pools, composed in one layer graph. */
export const AppLive = (endpoints: Endpoints) =>
  Layer.mergeAll(
    CatalogueLive(endpoints.catalogueOrigin),
    PricingLive,
    OrdersLive(endpoints.databaseUrl),
    NotifierLive(endpoints.fulfilmentTarget)
  )
