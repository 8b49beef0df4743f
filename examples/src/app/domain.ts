/**
 * The order application's Effect-free parts, shared by both editions' apps (the Effect 4 app in
 * packages/effect4/examples imports the built file, examples/dist/app/domain.js): the orders
 * and their workload, the catalogue's handler, the tally, the exactly-once ledger check, the
 * Postgres admin queries of the fault injector and the leak check. No `effect` import.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import pg from "pg"

export interface Item {
  readonly sku: string
  readonly name: string
  readonly priceCents: number
}

export interface OrderLine {
  readonly sku: string
  readonly quantity: number
}

export interface Order {
  /** The idempotency key: an order is stored once however often it is sent. */
  readonly id: string
  readonly lines: ReadonlyArray<OrderLine>
}

export interface Priced {
  readonly totalCents: number
  readonly lines: ReadonlyArray<OrderLine & { readonly unitCents: number }>
}

/** What a pricing task gets. */
export interface PricingInput {
  readonly order: Order
  readonly items: ReadonlyArray<Item>
}

export const SKUS = Array.from({ length: 50 }, (_, i) => `sku-${i}`)

/** Order `n` of the workload: 1–3 lines of random SKUs, quantities 1–3. */
export const orderOf = (n: number, randomInt: (min: number, maxExclusive: number) => number = (min, max) => min + Math.floor(Math.random() * (max - min))): Order => ({
  id: `order-${n}`,
  lines: Array.from({ length: 1 + (n % 3) }, () => ({ sku: SKUS[randomInt(0, SKUS.length)], quantity: randomInt(1, 4) }))
})

/** The catalogue service's HTTP handler: `GET /items/<sku>` as JSON, 404 for unknown SKUs. */
export const catalogueHandler = (req: IncomingMessage, res: ServerResponse): void => {
  const sku = /^\/items\/(.+)$/.exec(req.url ?? "")?.[1]
  if (sku === undefined || !SKUS.includes(sku)) {
    res.statusCode = 404
    return void res.end("not found")
  }
  res.setHeader("content-type", "application/json")
  res.end(JSON.stringify({ sku, name: `Item ${sku}`, priceCents: 100 + SKUS.indexOf(sku) * 7 }))
}

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

/** Counts one failure of `step` (to be retried) under its error's `_tag`. */
export const tallyFailure = (tally: Tally, step: string, error: unknown): void => {
  const key = `${step}: ${(error as { _tag?: string })?._tag ?? "Error"}`
  tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1)
  tally.retries++
}

/** The retry schedule of every step, as numbers: exponential from 20 ms ×1.5, at most 500 ms apart, 20 retries. */
export const retryPolicy = { baseMillis: 20, factor: 1.5, capMillis: 500, retries: 20 } as const

export interface Audit {
  readonly stored: number
  readonly incomplete: number
}

/**
 * The exactly-once check: each order passed its store step once (fresh, or found stored by a
 * retry), the table holds exactly those (its primary key is the order id), each with all its lines.
 */
export const exactlyOnce = (audit: Audit, tally: Tally): boolean => audit.stored === tally.stored + tally.alreadyStored && audit.incomplete === 0

export const ordersTable = "effect_pool_app_orders"
export const linesTable = "effect_pool_app_order_lines"
/** The orders pool's `application_name`, how the fault injector and the leak check find its backends. */
export const applicationName = "effect-pool-app"

export const createTables = [
  `DROP TABLE IF EXISTS ${linesTable}, ${ordersTable}`,
  `CREATE TABLE ${ordersTable} (id text PRIMARY KEY, total_cents int NOT NULL, line_count int NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE ${linesTable} (order_id text NOT NULL REFERENCES ${ordersTable}, sku text NOT NULL, quantity int NOT NULL, unit_cents int NOT NULL)`
] as const

// one pass over each table (a hash join): a subquery per order had no index on order_id to use
// and scanned every line once per order — quadratic, 60 s after a minute's 21,000 orders
export const auditQuery = `SELECT count(*)::int AS stored,
  count(*) FILTER (WHERE o.line_count <> coalesce(l.n, 0))::int AS incomplete
  FROM ${ordersTable} o LEFT JOIN (SELECT order_id, count(*) AS n FROM ${linesTable} GROUP BY order_id) l ON l.order_id = o.id`

const withAdmin = async <A>(url: string, name: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const admin = new pg.Client({ connectionString: url, application_name: name })
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.end()
  }
}

/** The Postgres fault: terminates every backend of the orders pool. */
export const terminateOrdersBackends = (url: string): Promise<string> =>
  withAdmin(url, "effect-pool-app-chaos", async (admin) => {
    const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${applicationName}'`)
    return `postgres: terminated ${rowCount} backend(s) of the orders pool`
  })

/** Backends of the orders pool still open (the soak's leak check). */
export const ordersBackends = (url: string): Promise<number> =>
  withAdmin(url, "effect-pool-soak-check", async (admin) =>
    Number((await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${applicationName}'`)).rows[0].n))

/** Polls `count` until it is 0 (a closing socket takes a moment to be seen as closed); a line when it never is. */
export const drained = async (what: string, count: () => Promise<number> | number): Promise<ReadonlyArray<string>> => {
  const deadline = Date.now() + 15_000
  let n = await count()
  while (n > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    n = await count()
  }
  return n === 0 ? [] : [`${what}: ${n} left`]
}

/** What the soak's leak check looks at: the local services, as both editions' `localServices` return them. */
export interface LeakTargets {
  readonly postgres: { readonly url: string }
  readonly fulfilmentProxy: { readonly open: () => number | Promise<number> }
  readonly catalogue: { readonly sockets: { readonly open: number } }
}

/** Once every pool has closed: what is left at the other side (backends, connections, sockets, threads). */
export const leaksAfterClose = async (local: LeakTargets, threads: { readonly started: number; readonly exited: number }): Promise<ReadonlyArray<string>> => {
  const found = await Promise.all([
    drained("postgres backends of the orders pool", () => ordersBackends(local.postgres.url)),
    drained("connections to the fulfilment service", () => local.fulfilmentProxy.open()),
    drained("sockets at the catalogue", () => local.catalogue.sockets.open)
  ])
  return [...found.flat(), ...(threads.started === threads.exited ? [] : [`worker threads: ${threads.started - threads.exited} of ${threads.started} never exited`])]
}

export type FaultName = "postgres" | "grpc" | "worker" | "http"
export const faultNames: ReadonlyArray<FaultName> = ["postgres", "grpc", "worker", "http"]

/** `2× postgres, 1× grpc` */
export const faultCounts = (injected: ReadonlyArray<string>): string => {
  const counts = new Map<string, number>()
  for (const fault of injected) counts.set(fault.split(":")[0], (counts.get(fault.split(":")[0]) ?? 0) + 1)
  return [...counts].map(([kind, n]) => `${n}× ${kind}`).join(", ")
}

/** A pool's line in the view and the summary. */
export interface PoolLine {
  readonly pool: string
  readonly size: number
  readonly idle: number
  readonly borrowed: number
  readonly waiting: number
  readonly p50WaitMs: number
  readonly p99WaitMs: number
}

/** The wait quantile `q` (ms, upper bucket bound) of cumulative histogram buckets; 0 with no samples, Infinity past the last bound. */
export const quantileOf = (count: number, buckets: ReadonlyMap<number, number>, q: number): number => {
  if (count === 0) return 0
  for (const [bound, cumulative] of [...buckets].sort((a, b) => a[0] - b[0])) if (cumulative >= q * count) return bound
  return Infinity
}
