/** Faults against a real server: the pool keeps working, loses nothing, reports the real cause. */
import { describe, expect, it, layer } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { PgClient } from "@effect/sql-pg"
import { Pool } from "@effect-pool/core"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Exit, Fiber, Layer, Redacted, Schedule, Stream } from "effect"
import { admin, causeText, eventually, pgUrl, poolLayer, serverConnections, serverPids, table } from "./helpers.js"
import { startServer } from "@effect-pool/testing"
import net from "node:net"

const live = { excludeTestServices: true } as const

describe("pg faults", () => {
  layer(poolLayer({ name: "faults-idle", min: 3, max: 3 }), live)((it) => {
    it.effect("idle connections terminated by the server are evicted; the next query succeeds", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* eventually("warm", Effect.map(pg.stats, (s) => s.idle === 3))
        const killed = yield* admin(async (c) =>
          (await c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'faults-idle'")).rowCount
        )
        expect(killed).toBe(3)
        // the server's notice reaches each idle socket: the pool evicts them, users see nothing
        yield* eventually("evicted", Effect.map(pg.stats, (s) => s.destroyed >= 3))
        const rows = yield* sql`SELECT 1 AS one`
        expect(rows).toEqual([{ one: 1 }])
        yield* eventually("min topped up", Effect.map(pg.stats, (s) => s.idle === 3))
      }))
  })

  layer(poolLayer({ name: "faults-sibling", max: 4 }), live)((it) => {
    it.effect("a server-side termination of one connection evicts the other idle ones, not lent to fail one by one", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        // four connections open and idle
        yield* Effect.all(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        expect((yield* pg.stats).idle).toBe(4)
        const pids = yield* serverPids("faults-sibling")
        expect(pids).toHaveLength(4)
        // only one backend is killed (57P01, as on a shutdown): its siblings go with it
        yield* admin((c) => c.query("select pg_terminate_backend($1)", [pids[0]]))
        yield* eventually("all idle evicted", Effect.map(pg.stats, (s) => s.idle === 0 && s.destroyed === 4))
        yield* eventually("closed on the server", Effect.map(serverConnections("faults-sibling"), (n) => n === 0))
        // and the pool serves on fresh connections
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
        const slow = yield* Effect.fork(Effect.flip(sql`SELECT pg_sleep(10)`))
        yield* eventually("running", Effect.map(
          admin(async (c) => (await c.query("select count(*)::int n from pg_stat_activity where application_name = 'faults-busy' and query like '%pg_sleep%' and state = 'active'")).rows[0].n),
          (n) => n === 1
        ))
        yield* admin((c) => c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'faults-busy' and query like '%pg_sleep%'"))
        const error = yield* Fiber.join(slow)
        expect(error._tag).toBe("SqlError")
        expect(causeText(error)).toMatch(/terminating connection due to administrator command|57P01/)
        expect(yield* sql`SELECT 2 AS two`).toEqual([{ two: 2 }])
        yield* eventually("broken one destroyed", Effect.map(pg.stats, (s) => s.destroyed === 1))
      }))
  })

  layer(poolLayer({ name: "faults-cancel", max: 1 }), live)((it) => {
    it.effect("interrupting a query cancels it on the server; the connection is reused", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const [{ pid }] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
        const started = Date.now()
        const timedOut = yield* Effect.exit(Effect.timeout(sql`SELECT pg_sleep(30)`, "300 millis"))
        expect(Exit.isFailure(timedOut)).toBe(true)
        expect(Date.now() - started).toBeLessThan(5_000)
        const activity = yield* admin(async (c) =>
          (await c.query("select state, query from pg_stat_activity where pid = $1", [pid])).rows[0]
        )
        expect(activity.state).toBe("idle") // the sleep is no longer running
        const [{ pid: again }] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
        expect(again).toBe(pid)
        expect((yield* pg.stats).destroyed).toBe(0)
      }))

    it.effect("a borrower interrupted inside a transaction leaves no transaction open for the next one", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        // a raw reserved connection: BEGIN, write, then the borrower is interrupted
        let began = false
        const holder = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          yield* conn.executeUnprepared("BEGIN", [], undefined)
          yield* conn.executeUnprepared(`INSERT INTO ${t} VALUES (1)`, [], undefined)
          began = true
          yield* Effect.never
        })))
        yield* eventually("in transaction", Effect.sync(() => began))
        yield* Fiber.interrupt(holder)
        const status = yield* Pool.use(pg.pool, (conn) => Effect.sync(() => conn.client.getTransactionStatus()))
        expect(status).toBe("I")
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
        // and through sql.withTransaction
        let inside = false
        const tx = yield* Effect.fork(sql.withTransaction(Effect.zipRight(sql`INSERT INTO ${sql(t)} VALUES (2)`, Effect.zipRight(Effect.sync(() => (inside = true)), Effect.never))))
        yield* eventually("in transaction", Effect.sync(() => inside))
        yield* Fiber.interrupt(tx)
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
        expect(yield* serverConnections("faults-cancel")).toBe(1)
      }))
  })

  layer(poolLayer({ name: "faults-failed-tx", max: 1 }), live)((it) => {
    it.effect("a text that leaves its session in a failed transaction (BEGIN; then an error): rolled back on return, the next borrower unharmed", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const error = yield* Effect.flip(sql.unsafe("BEGIN; SELECT 1/0"))
        expect(causeText(error)).toContain("division by zero")
        // the one connection: the next statement runs outside any transaction
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        expect(yield* Pool.use(pg.pool, (conn) => Effect.sync(() => conn.client.getTransactionStatus()))).toBe("I")
        expect((yield* pg.stats).destroyed).toBe(0)
      }))

    it.effect("a parameter pg cannot encode (the caller's toPostgres throws, a cycle) is that statement's error: the connection stays, a transaction goes on and commits, named statements too", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v text)`
        const throwing = { toPostgres: () => { throw new Error("the caller's toPostgres threw") } }
        const cycle: Array<unknown> = []
        cycle.push(cycle)
        // past prepareThreshold (5 uses) the text is a named statement: a bad value at its Bind too
        for (let i = 0; i < 8; i++) {
          const bad = i % 2 === 0 ? throwing : cycle
          const error = yield* Effect.flip(sql`SELECT ${bad as never}::text AS v`)
          expect(error._tag).toBe("SqlError")
          expect(yield* sql`SELECT ${String(i)}::text AS v`).toEqual([{ v: String(i) }])
        }
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* Effect.flip(sql`INSERT INTO ${sql(t)} VALUES (${throwing as never})`)
          yield* sql`INSERT INTO ${sql(t)} VALUES ('kept')`
        }))
        expect(yield* sql`SELECT v FROM ${sql(t)}`).toEqual([{ v: "kept" }])
        const stats = yield* pg.stats
        expect([stats.created, stats.destroyed]).toEqual([1, 0])
      }))
  })

  layer(poolLayer({ name: "faults-listen", max: 2, statementTimeout: "200 millis" }), live)((it) => {
    it.effect("LISTEN is re-established after its connection is killed", () =>
      Effect.gen(function*() {
        const pgClient = yield* PgClient.PgClient
        const pg = yield* PgPool.PgPool
        const channel = `reconnect_${Date.now()}`
        const received: Array<string> = []
        yield* Effect.fork(Stream.runForEach(pgClient.listen(channel), (m) => Effect.sync(() => received.push(m))))
        yield* eventually("listening", Effect.map(pg.listenerPid, (pid) => pid !== undefined))
        yield* pgClient.notify(channel, "before")
        yield* eventually("first message", Effect.sync(() => received.includes("before")))
        const oldPid = (yield* pg.listenerPid)!
        yield* admin((c) => c.query("select pg_terminate_backend($1)", [oldPid]))
        yield* eventually("reconnected", Effect.map(pg.listenerPid, (pid) => pid !== undefined && pid !== oldPid), 10_000)
        yield* pgClient.notify(channel, "after")
        yield* eventually("message after reconnect", Effect.sync(() => received.includes("after")))
      }), 20_000)

    it.effect("statementTimeout is enforced by the server and leaves the connection usable", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        const error = yield* Effect.flip(sql`SELECT pg_sleep(2)`)
        expect(causeText(error)).toMatch(/statement timeout|57014/)
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        expect((yield* pg.stats).destroyed).toBe(0)
      }))
  })

  layer(poolLayer({ name: "faults-tx", max: 2 }), live)((it) => {
    it.effect("a connection killed inside a transaction fails it with the server's reason, not a defect", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (v int)`
        let inside = false
        const tx = yield* Effect.fork(Effect.exit(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
          inside = true
          yield* Effect.sleep("1 second")
          yield* sql`INSERT INTO ${sql(t)} VALUES (2)`
        }))))
        yield* eventually("in transaction", Effect.sync(() => inside))
        yield* admin((c) => c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'faults-tx' and state = 'idle in transaction'"))
        const exit = yield* Fiber.join(tx)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(exit.cause._tag).toBe("Fail") // a typed SqlError, not a defect
          expect(causeText(exit.cause)).toMatch(/terminating connection|broken/)
        }
        expect(yield* sql`SELECT count(*)::int AS n FROM ${sql(t)}`).toEqual([{ n: 0 }])
      }))
  })

  layer(poolLayer({ name: "faults-health", min: 2, max: 2, healthCheck: { schedule: Schedule.spaced("100 millis") } }), live)((it) => {
    it.effect("healthCheck runs SELECT 1 on idle connections in the background", () =>
      Effect.gen(function*() {
        const pg = yield* PgPool.PgPool
        yield* eventually("warm", Effect.map(pg.stats, (s) => s.idle === 2))
        // the server saw the pool's idle connections run the check
        yield* eventually("checked", Effect.map(
          admin(async (c) =>
            (await c.query("select count(*)::int n from pg_stat_activity where application_name = 'faults-health' and query = 'SELECT 1'")).rows[0].n
          ),
          (n) => n === 2
        ))
        expect((yield* pg.stats).destroyed).toBe(0)
      }))
  })

  it.live("a cancel request that cannot connect neither crashes the process nor loses the connection", () =>
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
        Effect.async<void>((resume) => void proxy.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => proxy.close())
      )
      const url = new URL(pgUrl())
      url.port = String((proxy.address() as net.AddressInfo).port)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
        proxy.close() // no new connections from here on
        const started = Date.now()
        const timedOut = yield* Effect.exit(Effect.timeout(sql`SELECT pg_sleep(1)`, "100 millis"))
        expect(Exit.isFailure(timedOut)).toBe(true)
        // the cancel was refused: the query ran to its end, and only then was the connection returned
        expect(Date.now() - started).toBeGreaterThanOrEqual(900)
        expect(yield* sql`SELECT 2 AS two`).toEqual([{ two: 2 }])
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "cancel-refused", max: 1 })))
    }).pipe(Effect.scoped), 20_000)

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
        Effect.async<void>((resume) => void proxy.listen(0, "127.0.0.1", () => resume(Effect.void))),
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
        expect(yield* sql`SELECT 2 AS two, pg_sleep(0.8)`).toEqual([{ two: 2, pg_sleep: "" }])
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "cancel-late", max: 1 })))
    }).pipe(Effect.scoped), 20_000)

  it.live("a wrong password fails the first query at once with the server's reason, without retrying", () =>
    Effect.gen(function*() {
      const url = new URL(pgUrl())
      url.password = "wrong"
      const error = yield* Effect.flip(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql`SELECT 1`
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(url.toString()), name: "bad-password" }))))
      expect(error._tag).toBe("SqlError")
      expect(causeText(error)).toMatch(/password authentication failed|28P01/)
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
      expect(causeText(result.error)).toMatch(/timed out after 1s/)
      expect(result.stats.failures).toBeGreaterThan(1)
      expect(result.stats.failures).toBeLessThan(15)
    }))

  it.live("rejects bad connection options when the layer is built", () =>
    Effect.gen(function*() {
      const build = (options: PgPool.Options) => Effect.flip(Layer.build(PgPool.layer(options)).pipe(Effect.scoped))
      expect(yield* build({ port: 70_000 })).toMatchObject({ _tag: "PoolConfigError", option: "port" })
      expect(yield* build({ url: Redacted.make("not a url") })).toMatchObject({ _tag: "PoolConfigError", option: "url" })
      expect(yield* build({ url: Redacted.make("mysql://x@y/z") })).toMatchObject({ _tag: "PoolConfigError", option: "url" })
      expect(yield* build({ max: 0 })).toMatchObject({ _tag: "PoolConfigError", option: "max" })
      expect(yield* build({ statementTimeout: -5 })).toMatchObject({ _tag: "PoolConfigError", option: "statementTimeout" })
      expect(yield* build({ prepareThreshold: -1 })).toMatchObject({ _tag: "PoolConfigError", option: "prepareThreshold" })
      expect(yield* build({ maxPreparedStatements: 1.5 })).toMatchObject({ _tag: "PoolConfigError", option: "maxPreparedStatements" })
    }))

  it.live("a server stopped and restarted mid-load: errors name the cause while it is down, the pool recovers, nothing leaks", () =>
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
          else outcomes[at].errors.push(causeText(Exit.isFailure(exit) ? exit.cause : undefined))
          yield* Effect.sleep("5 millis")
        }))
        const load = yield* Effect.fork(Effect.all(Array.from({ length: 8 }, () => worker), { concurrency: "unbounded" }))
        yield* Effect.sleep("500 millis")
        phase = "down"
        yield* Effect.promise(server.stop)
        yield* Effect.sleep("1500 millis")
        yield* Effect.promise(server.start)
        // recovery: within a couple of seconds queries succeed again
        yield* eventually("recovered", Effect.map(Effect.exit(sql`SELECT 1`), Exit.isSuccess), 10_000)
        // connections opened while the old server was shutting down can still get its notice
        yield* Effect.sleep("300 millis")
        phase = "after"
        yield* Effect.sleep("1 second")
        yield* Fiber.interrupt(load)
        expect(outcomes.before.ok).toBeGreaterThan(0)
        expect(outcomes.before.errors).toEqual([])
        expect(outcomes.down.errors.length).toBeGreaterThan(0)
        // every failure names what really happened, never a bare timeout
        for (const text of outcomes.down.errors) {
          expect(text).toMatch(/ECONNREFUSED|terminat|shutting down|Connection|connect|57P0/i)
        }
        expect(outcomes.after.ok).toBeGreaterThan(0)
        expect(outcomes.after.errors).toEqual([])
        const stats = yield* pg.stats
        expect(stats.size).toBeLessThanOrEqual(5)
        const onServer = yield* Effect.promise(async () => {
          const pg = await import("pg")
          const c = new pg.default.Client({ connectionString: server.url })
          await c.connect()
          const n = (await c.query("select count(*)::int n from pg_stat_activity where application_name = '@effect-pool/pg'")).rows[0].n
          await c.end()
          return n
        })
        expect(onServer).toBeLessThanOrEqual(5)
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.scoped), 60_000)

  layer(poolLayer({ name: "faults-200", max: 10 }), live)((it) => {
    it.effect("200 fibers over 10 connections with random interruptions: committed rows all there once, never more than max connections", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const t = table()
        yield* sql`CREATE TABLE ${sql(t)} (id int primary key)`
        const committed = new Set<number>()
        let peak = 0
        const sampler = yield* Effect.fork(Effect.forever(Effect.zipRight(
          Effect.flatMap(serverConnections("faults-200"), (n) => Effect.sync(() => (peak = Math.max(peak, n)))),
          Effect.sleep("20 millis")
        )))
        yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (id) =>
          sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO ${sql(t)} VALUES (${id})`
            yield* sql`SELECT pg_sleep(${id % 4 === 0 ? 0.05 : Math.random() * 0.01})`
          })).pipe(
            // odd ids run to the end; every 4th is interrupted at once; the rest at random
            id % 2 === 1 ? (e) => e : Effect.timeout(Duration.millis(id % 4 === 0 ? 1 : Math.floor(Math.random() * 60))),
            Effect.tap(() => Effect.sync(() => committed.add(id))),
            Effect.ignore
          ), { concurrency: "unbounded", discard: true })
        yield* Fiber.interrupt(sampler)
        const rows = yield* sql<{ id: number }>`SELECT id FROM ${sql(t)}`
        const ids = rows.map((r) => r.id)
        for (const id of committed) expect(ids).toContain(id)
        expect(new Set(ids).size).toBe(ids.length)
        for (let id = 1; id < 200; id += 2) expect(committed.has(id)).toBe(true)
        for (let id = 0; id < 200; id += 4) expect(committed.has(id)).toBe(false)
        for (const id of ids) expect(id).toBeLessThan(200)
        expect(peak).toBeLessThanOrEqual(10)
        const status = yield* serverConnections("faults-200")
        expect(status).toBeLessThanOrEqual(10)
        const stuck = yield* admin(async (c) => (await c.query("select count(*)::int n from pg_stat_activity where application_name = 'faults-200' and state like 'idle in transaction%'")).rows[0].n)
        expect(stuck).toBe(0)
      }), 60_000)
  })
})
