/** Faults against a real server: the pool keeps working, loses nothing, reports the real cause. */
import { describe, expect, it, layer } from "@effect/vitest"
import { Pool } from "@effect-pool/core"
import { PgPool } from "@effect-pool/pg"
import { startServer, startTcpProxy } from "@effect-pool/testing-effect4"
import { PgClient } from "@effect/sql-pg"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Queue, Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import net from "node:net"
import { admin, causeText, eventually, pgUrl, poolLayer, serverConnections, serverPids, table, terminate } from "./helpers.js"

const live = { excludeTestServices: true } as const
const count = (query: string, params: ReadonlyArray<unknown> = []) =>
  admin((c) => Effect.map(c.query(query, params), (r) => Number(r.rows[0]!.n)))

describe("pg faults", () => {
  layer(poolLayer({ name: "faults-idle", min: 3, max: 3 }), live)((it) => {
    it.effect("idle connections terminated by the server are evicted; the next query succeeds", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* eventually("warm", Effect.map(pg.stats, (s) => s.idle === 3))
        const pids = yield* serverPids("faults-idle")
        expect(pids).toHaveLength(3)
        yield* terminate(pids)
        // the server's notice reaches each idle socket: the pool evicts them, users see nothing
        yield* eventually("evicted", Effect.map(pg.stats, (s) => s.destroyed >= 3))
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        yield* eventually("min topped up", Effect.map(pg.stats, (s) => s.idle === 3))
      }))
  })

  layer(poolLayer({ name: "faults-sibling", max: 4 }), live)((it) => {
    it.effect("a server-side termination of one connection evicts the other idle ones, not lent to fail one by one", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* Effect.all(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        expect((yield* pg.stats).idle).toBe(4)
        const pids = yield* serverPids("faults-sibling")
        expect(pids).toHaveLength(4)
        // one backend is killed (57P01, as on a shutdown): its siblings go with it
        yield* terminate([pids[0]!])
        yield* eventually("all idle evicted", Effect.map(pg.stats, (s) => s.idle === 0 && s.destroyed === 4))
        yield* eventually("closed on the server", Effect.map(serverConnections("faults-sibling"), (n) => n === 0))
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        const fresh = yield* serverPids("faults-sibling")
        expect(fresh.filter((pid) => pids.includes(pid))).toEqual([])
      }))
  })

  layer(poolLayer({ name: "faults-busy", max: 2 }), live)((it) => {
    it.effect("a busy connection terminated mid-query fails that query with the server's reason; the pool heals", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const slow = yield* Effect.forkChild(Effect.flip(sql`SELECT pg_sleep(10)`))
        const active = "select count(*)::int n from pg_stat_activity where application_name = 'faults-busy' and query like '%pg_sleep%' and state = 'active'"
        yield* eventually("running", Effect.map(count(active), (n) => n === 1))
        yield* admin((c) => c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'faults-busy' and query like '%pg_sleep%'"))
        const error = yield* Fiber.join(slow)
        expect(error._tag).toBe("SqlError")
        expect(causeText(error)).toMatch(/terminating connection due to administrator command|57P01/)
        expect(yield* sql`SELECT 2 AS two`).toEqual([{ two: 2 }])
        yield* eventually("broken one destroyed", Effect.map(pg.stats, (s) => s.destroyed >= 1))
      }))
  })

  layer(poolLayer({ name: "faults-cancel", max: 1 }), live)((it) => {
    it.effect("interrupting a query cancels it on the server (protocol cancel); the connection is reused", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const [{ pid }] = (yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`) as [{ pid: number }]
        const timedOut = yield* Effect.exit(Effect.timeout(sql`SELECT pg_sleep(30)`, "300 millis"))
        expect(Exit.isFailure(timedOut)).toBe(true)
        // the interruption returned only once the server had ended the sleep
        const state = yield* admin((c) => Effect.map(c.query("select state from pg_stat_activity where pid = $1", [pid]), (r) => r.rows[0]?.state))
        expect(state).toBe("idle")
        const [{ pid: again }] = (yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`) as [{ pid: number }]
        expect(again).toBe(pid)
        expect((yield* pg.stats).destroyed).toBe(0)
      }))

    it.effect("a stray BEGIN (autocommit off by hand) is rolled back on return: the next borrower is outside any transaction", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        yield* sql`BEGIN`.unprepared
        yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
        // SAVEPOINT only works inside a transaction block (25P01 outside one)
        const probe = yield* Effect.flip(sql`SAVEPOINT probe`.unprepared)
        expect(causeText(probe)).toMatch(/25P01|transaction blocks/)
        // the INSERT ran on a clean session (autocommit), not inside the stray transaction
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 1 }])
        expect((yield* pg.stats).destroyed).toBe(0)
      }))

    it.effect("a borrower interrupted inside a transaction leaves no transaction open for the next one", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        const began = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          yield* conn.executeUnprepared("BEGIN", [], undefined)
          yield* conn.executeUnprepared(`INSERT INTO ${t} VALUES (1)`, [], undefined)
          yield* Deferred.succeed(began, undefined)
          yield* Effect.never
        })))
        yield* Deferred.await(began)
        yield* Fiber.interrupt(holder)
        const status = yield* Pool.use(pg.pool, (conn: PgPool.PooledConnection) => Effect.sync(() => conn.txStatus()))
        expect(status).toBe("I")
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
        const inside = yield* Deferred.make<void>()
        const tx = yield* Effect.forkChild(sql.withTransaction(Effect.andThen(sql`INSERT INTO ${sql(t)} VALUES (2)`, Effect.andThen(Deferred.succeed(inside, undefined), Effect.never))))
        yield* Deferred.await(inside)
        yield* Fiber.interrupt(tx)
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
        expect(yield* serverConnections("faults-cancel")).toBe(1)
      }))
  })

  layer(poolLayer({ name: "faults-exhausted", max: 1, acquireTimeout: "300 millis" }), live)((it) => {
    it.effect("an exhausted pool fails the waiter at acquireTimeout with a SqlError naming the pool's timeout", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const holding = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(sql.withTransaction(Effect.andThen(Deferred.succeed(holding, undefined), Effect.never)))
        yield* Deferred.await(holding)
        const error = yield* Effect.flip(sql`SELECT 1`)
        expect(error._tag).toBe("SqlError")
        expect(causeText(error)).toMatch(/PoolTimeoutError/)
        expect(causeText(error)).toMatch(/faults-exhausted/)
        yield* Fiber.interrupt(holder)
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
      }))
  })

  layer(poolLayer({ name: "faults-listen", max: 2, statementTimeout: "200 millis" }), live)((it) => {
    it.effect("statementTimeout is enforced by the server and leaves the connection usable", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const error = yield* Effect.flip(sql`SELECT pg_sleep(2)`)
        expect(causeText(error)).toMatch(/statement timeout|57014/)
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        expect((yield* pg.stats).destroyed).toBe(0)
      }))

    it.effect("a LISTEN whose connection is killed fails its queue with the server's reason", () =>
      Effect.gen(function*() {
        const pgClient = yield* PgClient.PgClient
        const channel = `killed_${Date.now()}`
        const queue = yield* pgClient.listen(channel)
        const pids = yield* admin((c) => Effect.map(c.query("select pid from pg_stat_activity where application_name = 'faults-listen' and query like 'LISTEN%'"), (r) => r.rows.map((row) => row.pid as number)))
        expect(pids).toHaveLength(1)
        yield* terminate(pids)
        const error = yield* Effect.flip(Queue.take(queue))
        expect(causeText(error)).toMatch(/terminating connection|57P01|closed/)
      }).pipe(Effect.scoped))
  })

  layer(poolLayer({ name: "faults-tx", max: 2 }), live)((it) => {
    it.effect("a connection killed inside a transaction fails it with the server's reason, not a defect", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        const inside = yield* Deferred.make<void>()
        const proceed = yield* Deferred.make<void>()
        const tx = yield* Effect.forkChild(Effect.exit(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
          yield* Deferred.succeed(inside, undefined)
          yield* Deferred.await(proceed)
          yield* sql`INSERT INTO ${sql(t)} VALUES (2)`
        }))))
        yield* Deferred.await(inside)
        yield* admin((c) => c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'faults-tx' and state = 'idle in transaction'"))
        yield* Deferred.succeed(proceed, undefined)
        const exit = yield* Fiber.join(tx)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(exit.cause.reasons.some((r) => r._tag === "Fail")).toBe(true) // a typed SqlError
          expect(causeText(exit.cause.reasons[0])).toMatch(/terminating connection|57P01|ECONNRESET/i)
        }
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
      }))
  })

  layer(poolLayer({ name: "faults-health", min: 2, max: 2, healthCheck: { schedule: Schedule.spaced("100 millis") } }), live)((it) => {
    it.effect("healthCheck runs SELECT 1 on idle connections in the background", () =>
      Effect.gen(function*() {
        const pg = yield* PgPool.PgPool
        yield* eventually("warm", Effect.map(pg.stats, (s) => s.idle === 2))
        yield* eventually("checked", Effect.map(
          count("select count(*)::int n from pg_stat_activity where application_name = 'faults-health' and query = 'SELECT 1'"),
          (n) => n === 2
        ))
        expect((yield* pg.stats).destroyed).toBe(0)
      }))
  })

  it.live("a connection that died silently while idle (no FIN, no RST) fails validation after idle and is replaced; the query never sees it", () =>
    Effect.gen(function*() {
      const target = new URL(pgUrl())
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(Number(target.port))), (p) => Effect.promise(p.close))
      const url = new URL(pgUrl())
      url.hostname = "127.0.0.1"
      url.port = String(proxy.port)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        // idle past validateAfterIdle (a lower bound, not a race), then the path goes silent
        yield* Effect.sleep("150 millis")
        proxy.blackhole(true)
        const query = yield* Effect.forkChild(sql<{ two: number }>`SELECT 2 AS two`)
        yield* eventually("validation failed and the connection was dropped", Effect.map(pg.stats, (s) => s.destroyed >= 1), 10_000)
        proxy.blackhole(false)
        expect(yield* Fiber.join(query)).toEqual([{ two: 2 }])
        expect(proxy.accepted()).toBeGreaterThanOrEqual(2)
      }).pipe(Effect.provide(PgPool.layer({
        url: Redacted.make(url.toString()),
        name: "validate-idle",
        max: 1,
        validateAfterIdle: "100 millis",
        validateTimeout: "300 millis",
        acquireTimeout: "20 seconds"
      })))
    }).pipe(Effect.scoped), 30_000)

  it.live("a cancel request that cannot connect neither crashes the process nor loses the pool", () =>
    Effect.gen(function*() {
      // a proxy in front of the server: once it stops accepting, the open connection still works
      // but the cancel request's new connection is refused
      const target = new URL(pgUrl())
      const proxy = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname)
        client.pipe(upstream).pipe(client)
        client.on("error", () => upstream.destroy())
        upstream.on("error", () => client.destroy())
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => void proxy.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => proxy.close())
      )
      const url = new URL(pgUrl())
      url.port = String((proxy.address() as net.AddressInfo).port)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        proxy.close() // no new connections from here on
        const timedOut = yield* Effect.exit(Effect.timeout(sql`SELECT pg_sleep(1)`, "100 millis"))
        expect(Exit.isFailure(timedOut)).toBe(true)
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "cancel-refused", max: 1, acquireTimeout: "20 seconds" })))
    }).pipe(Effect.scoped), 30_000)

  it.live("a cancel request that arrives after its statement ended does not cancel the next borrower's statement", () =>
    Effect.gen(function*() {
      // a proxy in front of the server that, once slowed, holds each NEW connection 400 ms before
      // forwarding it: the pooled connection is quick, the cancel request's connection late
      const target = new URL(pgUrl())
      let delay = 0
      const proxy = net.createServer((client) => {
        client.pause()
        setTimeout(() => {
          const upstream = net.connect(Number(target.port), target.hostname)
          client.pipe(upstream).pipe(client)
          client.resume()
          client.on("error", () => upstream.destroy())
          upstream.on("error", () => client.destroy())
        }, delay)
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => void proxy.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => proxy.close())
      )
      const url = new URL(pgUrl())
      url.port = String((proxy.address() as net.AddressInfo).port)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        delay = 400
        // interrupted at 20 ms, it ends by itself at 100 ms: its cancel reaches the server ~400 ms in
        const timedOut = yield* Effect.exit(Effect.timeout(sql`SELECT pg_sleep(0.1)`, "20 millis"))
        expect(Exit.isFailure(timedOut)).toBe(true)
        // the next statement on the one connection runs past that moment: it must not be cancelled
        expect(yield* sql`SELECT 2 AS two, pg_sleep(0.8)::text AS slept`).toEqual([{ two: 2, slept: "" }])
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "cancel-late", max: 1, acquireTimeout: "20 seconds" })))
    }).pipe(Effect.scoped), 30_000)

  it.live("a wrong password fails the first query at once with the server's reason, without retrying", () =>
    Effect.gen(function*() {
      const url = new URL(pgUrl())
      url.password = "wrong"
      const result = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const error = yield* Effect.flip(sql`SELECT 1`)
        return { error, stats: yield* pg.stats }
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "bad-password", acquireTimeout: "10 seconds" })))
      expect(result.error._tag).toBe("SqlError")
      expect(causeText(result.error)).toMatch(/password authentication failed|28P01|authentication/i)
      expect(result.stats.failures).toBe(1)
    }))

  it.live("a wrong port fails the first query with the connection error as cause, with backoff, not a spin", () =>
    Effect.gen(function*() {
      const url = new URL(pgUrl())
      url.port = "1"
      const result = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const error = yield* Effect.flip(sql`SELECT 1`)
        return { error, stats: yield* pg.stats }
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "bad-port", acquireTimeout: "1 second" })))
      expect(causeText(result.error)).toMatch(/ECONNREFUSED/)
      expect(causeText(result.error)).toMatch(/PoolTimeoutError/)
      expect(result.stats.failures).toBeGreaterThan(1)
      expect(result.stats.failures).toBeLessThan(15)
    }))

  it.live("a server stopped and restarted mid-load: errors name the cause while it is down, the pool recovers", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(startServer), (s) => Effect.promise(s.dispose))
      const layer = PgPool.layer({ url: Redacted.make(server.url), name: "restart", max: 5, acquireTimeout: "1 second" })
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        let phase: "before" | "down" | "after" = "before"
        const outcomes = { before: { ok: 0, errors: [] as Array<string> }, down: { ok: 0, errors: [] as Array<string> }, after: { ok: 0, errors: [] as Array<string> } }
        const worker = Effect.forever(Effect.gen(function*() {
          const at = phase
          const exit = yield* Effect.exit(sql`SELECT 1`)
          if (Exit.isSuccess(exit)) outcomes[at].ok++
          else outcomes[at].errors.push(causeText(exit.cause.reasons[0]))
          yield* Effect.sleep("5 millis")
        }))
        const load = yield* Effect.forkChild(Effect.all(Array.from({ length: 8 }, () => worker), { concurrency: "unbounded" }))
        yield* eventually("load running", () => outcomes.before.ok > 20)
        phase = "down"
        yield* Effect.promise(server.stop)
        yield* eventually("errors while down", () => outcomes.down.errors.length > 0, 10_000)
        yield* Effect.promise(server.start)
        yield* eventually("recovered", Effect.map(Effect.exit(sql`SELECT 1`), Exit.isSuccess), 10_000)
        yield* Effect.sleep("300 millis")
        phase = "after"
        yield* eventually("served after", () => outcomes.after.ok > 20, 10_000)
        yield* Fiber.interrupt(load)
        expect(outcomes.before.errors).toEqual([])
        for (const text of outcomes.down.errors) {
          expect(text).toMatch(/ECONNREFUSED|terminat|shutting down|Connection|connect|57P0/i)
        }
        expect(outcomes.after.errors).toEqual([])
        expect((yield* pg.stats).size).toBeLessThanOrEqual(5)
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.scoped), 60_000)

  layer(poolLayer({ name: "faults-200", max: 10 }), live)((it) => {
    it.effect("200 fibers over 10 connections with random interruptions: committed rows all there once, never more than max", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (id int primary key)`
        const committed = new Set<number>()
        yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (id) =>
          sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO ${sql(t)} VALUES (${id})`
            yield* sql`SELECT pg_sleep(${id % 4 === 0 ? 0.05 : Math.random() * 0.01})`
          })).pipe(
            id % 2 === 1 ? (e) => e : Effect.timeout(Duration.millis(id % 4 === 0 ? 1 : Math.floor(Math.random() * 60))),
            Effect.tap(() => Effect.sync(() => committed.add(id))),
            Effect.ignore
          ), { concurrency: "unbounded", discard: true })
        const ids = (yield* sql<{ id: number }>`SELECT id FROM ${sql(t)}`).map((r) => r.id)
        for (const id of committed) expect(ids).toContain(id)
        for (let id = 1; id < 200; id += 2) expect(committed.has(id)).toBe(true)
        for (let id = 0; id < 200; id += 4) expect(committed.has(id)).toBe(false)
        expect(yield* serverConnections("faults-200")).toBeLessThanOrEqual(10)
        expect(yield* count("select count(*)::int n from pg_stat_activity where application_name = 'faults-200' and state like 'idle in transaction%'")).toBe(0)
      }), 60_000)
  })

  it.live("rejects bad connection options when the layer is built", () =>
    Effect.gen(function*() {
      const build = (options: PgPool.Options) => Effect.flip(Layer.build(PgPool.layer(options)).pipe(Effect.scoped))
      expect(yield* build({ port: 70_000 })).toMatchObject({ _tag: "PoolConfigError", option: "port" })
      expect(yield* build({ url: Redacted.make("not a url") })).toMatchObject({ _tag: "PoolConfigError", option: "url" })
      expect(yield* build({ url: Redacted.make(pgUrl()), max: 0 })).toMatchObject({ _tag: "PoolConfigError", option: "max" })
      expect(yield* build({ url: Redacted.make(pgUrl()), statementTimeout: -5 })).toMatchObject({ _tag: "PoolConfigError", option: "statementTimeout" })
    }))
})
