/**
 * More than one server on real embedded Postgres: a primary, a server read-only by default and a
 * REAL hot standby of the primary. Routing per targetSessionAttrs, a host down at start, random
 * order, hostile options, and a switchover under load.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { PgPool } from "@effect-pool/pg"
import { startParameterFilter, startServer, startServers, startServerWith, startStandby, startTcpProxy, switchover, type TestServer } from "@effect-pool/testing"
import { freePort } from "@effect-pool/testing"
import { Pool } from "@effect-pool/core"
import { PgClient } from "@effect/sql-pg"
import { Chunk, Effect, Exit, Fiber, Layer, Metric, Redacted, Schedule, Scope, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { causeText, eventually, table } from "./helpers.js"

let primary: TestServer
let readOnly: TestServer
let standby: TestServer
/** Two plain servers the tests turn read-only and back (ALTER SYSTEM + reload). */
let a: TestServer
let b: TestServer
const owned: Array<TestServer> = []

beforeAll(async () => {
  ;[primary, readOnly, [a, b]] = await Promise.all([
    startServer(),
    startServerWith({ settings: { default_transaction_read_only: "on" } }),
    startServers(2) as Promise<[TestServer, TestServer]>
  ])
  owned.push(primary, readOnly, a, b)
  standby = await startStandby(primary)
  owned.push(standby)
}, 180_000)
afterAll(() => Promise.all(owned.map((s) => s.dispose())), 60_000)

const hostsUrl = (servers: ReadonlyArray<{ port: number }>, query = "") =>
  `postgres://postgres:postgres@${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}/postgres${query}`

/** What a server before Postgres 14 does not report (at startup, or when it changes). */
const oldServerParameters = ["in_hot_standby", "default_transaction_read_only"]

/** The port of the server a fresh pool's query lands on. */
const landsOn = (options: Partial<PgPool.Options>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ port: number }>`SELECT inet_server_port() AS port`
    return rows[0]!.port
  }).pipe(Effect.provide(PgPool.layer({ max: 1, ...options } as PgPool.Options)))

describe("more than one server", () => {
  it.live("routes each targetSessionAttrs as libpq does", () =>
    Effect.gen(function*() {
      const all = [readOnly, standby, primary]
      const url = (attrs: string) => Redacted.make(hostsUrl(all, `?target_session_attrs=${attrs}`))
      expect(yield* landsOn({ url: url("any") })).toBe(readOnly.port)
      expect(yield* landsOn({ url: url("read-write") })).toBe(primary.port)
      expect(yield* landsOn({ url: url("read-only") })).toBe(readOnly.port)
      expect(yield* landsOn({ url: url("primary") })).toBe(readOnly.port)
      expect(yield* landsOn({ url: url("standby") })).toBe(standby.port)
      expect(yield* landsOn({ url: url("prefer-standby") })).toBe(standby.port)
      // no standby: prefer-standby's second pass takes the first server
      expect(yield* landsOn({ url: Redacted.make(hostsUrl([readOnly, primary])), targetSessionAttrs: "prefer-standby" })).toBe(readOnly.port)
      // host/port lists as options
      expect(
        yield* landsOn({ host: ["127.0.0.1", "127.0.0.1"], port: [readOnly.port, primary.port], username: "postgres", password: Redacted.make("postgres"), database: "postgres", targetSessionAttrs: "read-write" })
      ).toBe(primary.port)
    }), 120_000)

  it.live("LISTEN goes where the pool's connections go: the primary behind a standby listed first", () =>
    Effect.gen(function*() {
      const pg = yield* PgClient.PgClient
      const channel = `chan_${Date.now()}`
      const received = yield* Effect.fork(pg.listen(channel).pipe(Stream.take(1), Stream.runCollect))
      // NOTIFY on the primary until the listener has subscribed (a NOTIFY before it is lost)
      yield* eventually("the notification arrives", Effect.gen(function*() {
        yield* Effect.orDie(pg.notify(channel, "hello"))
        return received.unsafePoll() !== null
      }), 20_000)
      expect(Chunk.toReadonlyArray(yield* Fiber.join(received))).toEqual(["hello"])
    }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(hostsUrl([standby, primary], "?target_session_attrs=read-write")) }))), 60_000)

  it.live("a host down is skipped; no match names every host tried and why", () =>
    Effect.gen(function*() {
      const down = yield* Effect.promise(freePort)
      expect(yield* landsOn({ url: Redacted.make(hostsUrl([{ port: down }, primary])) })).toBe(primary.port)
      const exit = yield* Effect.exit(
        landsOn({ url: Redacted.make(hostsUrl([{ port: down }, readOnly])), targetSessionAttrs: "read-write", createRetry: undefined, acquireTimeout: "3 seconds", failWaitersOnCreateError: true } as Partial<PgPool.Options>)
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const text = causeText(Exit.isFailure(exit) ? exit.cause : undefined)
      expect(text).toContain(`127.0.0.1:${down}`)
      expect(text).toMatch(/ECONNREFUSED/)
      expect(text).toContain(`127.0.0.1:${readOnly.port}: not in recovery, read-only by default; wanted read-write`)
    }), 60_000)

  it.live("servers that report no session state at startup (as before Postgres 14): the state is asked, and each targetSessionAttrs routes as libpq does", () =>
    Effect.gen(function*() {
      // in front of each server, a proxy dropping in_hot_standby and default_transaction_read_only
      const filters = yield* Effect.acquireRelease(
        Effect.promise(() => Promise.all([readOnly, standby, primary].map((server) => startParameterFilter(server.port, oldServerParameters)))),
        (started) => Effect.promise(() => Promise.all(started.map((f) => f.close())))
      )
      const url = (attrs: string) => Redacted.make(hostsUrl(filters, `?target_session_attrs=${attrs}`))
      expect(yield* landsOn({ url: url("read-write") })).toBe(primary.port)
      expect(yield* landsOn({ url: url("read-only") })).toBe(readOnly.port)
      expect(yield* landsOn({ url: url("standby") })).toBe(standby.port)
      expect(yield* landsOn({ url: url("primary") })).toBe(readOnly.port)
      // each proxy dropped what its server reported: the state came from the query
      expect(filters.map((f) => f.dropped() > 0)).toEqual([true, true, true])
    }).pipe(Effect.scoped), 60_000)

  it.live("load_balance_hosts=random spreads new connections over the hosts", () =>
    Effect.gen(function*() {
      const seen = new Set<number>()
      for (let i = 0; i < 12 && seen.size < 2; i++) {
        seen.add(yield* landsOn({ url: Redacted.make(hostsUrl([readOnly, primary], "?load_balance_hosts=random")) }))
      }
      expect([...seen].sort()).toEqual([readOnly.port, primary.port].sort())
    }), 60_000)

  it.live("a write on a read-only server is that statement's typed error", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`CREATE TABLE never_made (x int)`)
      expect(PgPool.isReadOnlyError(error)).toBe(true)
      expect(PgPool.isReadOnlyError(yield* Effect.flip(sql`SELECT 1/0`))).toBe(false)
    }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(readOnly.url) }))), 60_000)

  it.effect("hostile options name the option", () =>
    Effect.gen(function*() {
      const build = (options: Record<string, unknown>) =>
        Effect.flip(Layer.build(PgPool.layer(options as PgPool.Options)).pipe(Effect.scoped))
      const url = Redacted.make("postgres://u@a,b/db")
      expect(yield* build({ url, targetSessionAttrs: "master" })).toMatchObject({ _tag: "PoolConfigError", option: "targetSessionAttrs" })
      expect(yield* build({ url, targetSessionAttrs: 1 })).toMatchObject({ option: "targetSessionAttrs" })
      expect(yield* build({ url: Redacted.make("postgres://u@a/db?target_session_attrs=bogus") })).toMatchObject({ option: "targetSessionAttrs" })
      expect(yield* build({ url, loadBalanceHosts: true })).toMatchObject({ option: "loadBalanceHosts" })
      expect(yield* build({ url: Redacted.make("postgres://u:secret@a,,b/db") })).toMatchObject({ option: "url" })
      const leaked = yield* build({ url: Redacted.make("postgres://u:secret@a,,b/db") })
      expect(leaked.message).not.toContain("secret")
      expect(yield* build({ host: ["a", "b", "c"], port: [1, 2] })).toMatchObject({ option: "port" })
      expect(yield* build({ host: [] })).toMatchObject({ option: "host" })
      expect(yield* build({ host: ["a", 5] })).toMatchObject({ option: "host" })
      expect(yield* build({ host: "a,b", port: "1,x" })).toMatchObject({ option: "port" })
      expect(yield* build({ host: "a,b", port: [0, 70000] })).toMatchObject({ option: "port" })
      expect(yield* build({ host: "a", port: Number.NaN })).toMatchObject({ option: "port" })
    }))

  it.live("a server that turns read-only (a reported ParameterStatus) loses its read-write connections; they come back when it is writable", () =>
    Effect.gen(function*() {
      // waits until the reload is done (every backend signalled): the next statement reports it
      const setReadOnly = (on: boolean) => setServerReadOnly(primary, on)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pool = yield* PgPool.PgPool
        yield* sql`SELECT 1`
        expect((yield* pool.stats).size).toBe(1)
        yield* setReadOnly(true)
        // a session hears of the change (ParameterStatus) on its next round trip: this statement
        // still runs, and the connection is evicted after it
        yield* Effect.exit(sql`SELECT 1`)
        yield* eventually("evicted", Effect.map(pool.stats, (s) => s.size === 0), 20_000)
        const error = yield* Effect.flip(sql`SELECT 1`)
        expect(causeText(error)).toContain("wanted read-write")
        yield* setReadOnly(false)
        yield* eventually("writable again", Effect.map(Effect.exit(sql`SELECT 1`), Exit.isSuccess), 20_000)
      }).pipe(
        Effect.provide(PgPool.layer({
          url: Redacted.make(hostsUrl([readOnly, primary], "?target_session_attrs=read-write")),
          max: 1,
          acquireTimeout: "2 seconds",
          failWaitersOnCreateError: true
        } as PgPool.Options)),
        Effect.ensuring(setReadOnly(false))
      )
    }), 60_000)

  it.live("a switchover under load: writes move to the promoted standby, every committed row present exactly once", () =>
    Effect.gen(function*() {
      const p = yield* Effect.acquireRelease(Effect.promise(startServer), (s) => Effect.promise(s.dispose))
      yield* Effect.promise(async () => {
        const pg = (await import("pg")).default
        const c = new pg.Client({ connectionString: p.url })
        await c.connect()
        await c.query("CREATE TABLE rows (id text PRIMARY KEY)")
        await c.end()
      })
      const s = yield* Effect.acquireRelease(Effect.promise(() => startStandby(p)), (s) => Effect.promise(s.dispose))
      const layer = PgPool.layer({
        url: Redacted.make(hostsUrl([p, s], "?target_session_attrs=read-write")),
        max: 4,
        acquireTimeout: "20 seconds"
      })
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const committed = new Set<string>()
        let n = 0
        const worker = (w: number) =>
          Effect.forever(Effect.gen(function*() {
            const id = `${w}-${n++}`
            // an idempotent client id: retried until it is known committed
            for (;;) {
              const exit = yield* Effect.exit(sql`INSERT INTO rows (id) VALUES (${id}) ON CONFLICT (id) DO NOTHING`)
              if (Exit.isSuccess(exit)) break
              yield* Effect.sleep("20 millis")
            }
            committed.add(id)
          }))
        const load = yield* Effect.fork(Effect.all([0, 1, 2, 3].map(worker), { concurrency: "unbounded" }))
        yield* eventually("writing", Effect.sync(() => committed.size > 20), 20_000)
        yield* Effect.promise(() => switchover(p, s))
        const before = committed.size
        yield* eventually("writing after the switchover", Effect.sync(() => committed.size > before + 20), 30_000)
        yield* Fiber.interrupt(load)
        const rows = yield* sql<{ id: string }>`SELECT id FROM rows`
        const ids = rows.map((r) => r.id)
        expect(new Set(ids).size).toBe(ids.length)
        for (const id of committed) expect(ids).toContain(id)
        const port = yield* sql<{ port: number }>`SELECT inet_server_port() AS port`
        expect(port[0]!.port).toBe(s.port)
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.scoped), 180_000)
})

/** A raw client on `server`, outside any pool. */
const onServer = <A>(server: TestServer, f: (c: pg.Client) => Promise<A>): Effect.Effect<A> =>
  Effect.promise(async () => {
    const c = new pg.Client({ connectionString: server.url, application_name: "test-admin" })
    await c.connect()
    try {
      return await f(c)
    } finally {
      await c.end()
    }
  })

/**
 * Every new transaction on `server` read-only (or not): ALTER SYSTEM + reload, returning once a
 * new session sees the value (the postmaster has then signalled every backend; each applies and
 * reports it with its next statement).
 */
const setReadOnly = (server: TestServer, on: boolean) => setServerReadOnly(server, on)

/** (A declaration: the first describe's tests use it too.) */
function setServerReadOnly(server: TestServer, on: boolean) {
  return Effect.andThen(
    onServer(server, async (c) => {
      await c.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? "on" : "off"}`)
      await c.query("SELECT pg_reload_conf()")
    }),
    eventually(
      `${server.port} read-only ${on}`,
      onServer(server, async (c) => (await c.query("SHOW default_transaction_read_only")).rows[0].default_transaction_read_only === (on ? "on" : "off")),
      10_000
    )
  )
}

/** The backend pids of the pool's connections on `server` (by application name). */
const pidsOn = (server: TestServer, applicationName: string) =>
  onServer(server, async (c) =>
    (await c.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [applicationName])).rows.map((r) => r.pid as number))

let names = 0
const appName = () => `hosts-${process.pid}-${names++}`

/** A pool over a then b (127.0.0.1), read-write. */
const overAB = (applicationName: string, options: Partial<PgPool.Options> = {}) =>
  PgPool.layer({
    host: ["127.0.0.1", "127.0.0.1"],
    port: [a.port, b.port],
    username: "postgres",
    password: Redacted.make("postgres"),
    database: "postgres",
    targetSessionAttrs: "read-write",
    applicationName,
    acquireTimeout: "20 seconds",
    ...options
  } as PgPool.Options)

describe("a server that stops matching, with connections on two hosts", () => {
  it.live("only that host's connections are evicted: the other host's idle connections survive", () =>
    Effect.gen(function*() {
      const name = appName()
      yield* Effect.gen(function*() {
        const pgPool = yield* PgPool.PgPool
        /** Borrows `n` connections at once, each in its own scope (returned when it closes). */
        const hold = (n: number) =>
          Effect.all(
            Array.from({ length: n }, () =>
              Effect.flatMap(Scope.make(), (scope) => Effect.map(Scope.extend(Pool.get(pgPool.pool), scope), (conn) => ({ conn, scope })))),
            { concurrency: "unbounded" }
          )
        const giveBack = (held: { readonly scope: Scope.CloseableScope }) => Scope.close(held.scope, Exit.void)
        // a read-only: the first two connections land on b; a writable again: the next two on a
        yield* setReadOnly(a, true)
        const [b1, b2] = yield* hold(2)
        yield* setReadOnly(a, false)
        const heldA = yield* hold(2)
        expect([b1!, b2!].map((h) => h.conn.client.port)).toEqual([b.port, b.port])
        expect(heldA.map((h) => h.conn.client.port)).toEqual([a.port, a.port])
        const aPids = yield* pidsOn(a, name)
        expect(aPids).toEqual(heldA.map((h) => h.conn.pid).sort((x, y) => x - y))
        // idle: a's two and one of b's; b1 stays borrowed
        yield* Effect.forEach([...heldA, b2!], giveBack)
        expect((yield* pgPool.stats).idle).toBe(3)
        // b turns read-only; b1 hears it (ParameterStatus) at its next round trip
        yield* setReadOnly(b, true)
        yield* Effect.promise(() => b1!.conn.client.query("SELECT 1"))
        // b's idle connection goes; a's two idle ones stay: the same sessions
        yield* eventually("b's idle connection evicted", Effect.map(pidsOn(b, name), (pids) => !pids.includes(b2!.conn.pid)), 10_000)
        expect(yield* pidsOn(a, name)).toEqual(aPids)
        const stats = yield* pgPool.stats
        expect(stats.idle).toBe(2)
        // per host: b's borrowed one is out of rotation already, and why is kept
        expect(stats.hosts).toEqual([
          { host: "127.0.0.1", port: a.port, connections: 2, idle: 2 },
          { host: "127.0.0.1", port: b.port, connections: 0, idle: 0, lastMismatch: "now not in recovery, read-only by default; wanted read-write" }
        ])
        // the borrowed one is destroyed when returned, never lent again
        yield* giveBack(b1!)
        yield* eventually("b's connections gone", Effect.map(pidsOn(b, name), (pids) => pids.length === 0), 10_000)
        expect(yield* pidsOn(a, name)).toEqual(aPids)
        // the survivors serve the next statements
        const sql = yield* SqlClient.SqlClient
        const ports = yield* Effect.all([1, 2].map(() => sql<{ port: number }>`SELECT inet_server_port() AS port, pg_sleep(0.05)`), { concurrency: "unbounded" })
        expect(ports.map((r) => r[0]!.port)).toEqual([a.port, a.port])
        expect(yield* pidsOn(a, name)).toEqual(aPids)
      }).pipe(Effect.provide(overAB(name, { max: 4 })))
    }).pipe(Effect.ensuring(Effect.andThen(setReadOnly(a, false), setReadOnly(b, false)))), 90_000)

  it.live("a transaction's or session's own read-only-ness is not the server's: no host eviction, no mismatch", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      yield* onServer(a, (c) => c.query(`CREATE TABLE ${t} (id int)`))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        yield* Effect.all([1, 2, 3, 4].map(() => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        const pids = yield* pidsOn(a, name)
        expect(pids).toHaveLength(4)
        // SET TRANSACTION READ ONLY, then a write: 25006, the server is still read-write
        const refused = yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
          yield* sql`SET TRANSACTION READ ONLY`
          yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
        })))
        expect(PgPool.isReadOnlyError(refused)).toBe(true)
        yield* Effect.sleep("500 millis")
        expect(yield* pidsOn(a, name)).toEqual(pids)
        expect((yield* pgPool.stats).hosts[0]).toEqual({ host: "127.0.0.1", port: a.port, connections: 4, idle: 4 })
        // a session's own SET default_transaction_read_only: that session is dirty, discarded when
        // returned; the host's other connections stay
        const own = yield* Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          const [row] = yield* conn.executeValues("SELECT pg_backend_pid()", [])
          yield* conn.executeRaw("SET default_transaction_read_only = on", [])
          const write = yield* Effect.flip(conn.executeRaw(`INSERT INTO ${t} VALUES (2)`, []))
          expect(PgPool.isReadOnlyError(write)).toBe(true)
          return row![0] as number
        }))
        yield* eventually("that session discarded", Effect.map(pidsOn(a, name), (now) => !now.includes(own)), 10_000)
        expect(yield* pidsOn(a, name)).toEqual(pids.filter((p) => p !== own))
        expect((yield* pgPool.stats).hosts[0]).toEqual({ host: "127.0.0.1", port: a.port, connections: 3, idle: 3 })
        const [row] = yield* sql<{ ok: number }>`INSERT INTO ${sql(t)} VALUES (3) RETURNING 1 AS ok`
        expect(row!.ok).toBe(1)
      }).pipe(Effect.provide(overAB(name, { max: 4 })))
    }), 60_000)

  it.live("a change the server does not report (as before Postgres 14) is found by the health check: the connection moves to the host that matches", () =>
    Effect.gen(function*() {
      const filter = yield* Effect.acquireRelease(
        Effect.promise(() => startParameterFilter(a.port, oldServerParameters)),
        (f) => Effect.promise(() => f.close())
      )
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const port = Effect.orDie(Effect.map(sql<{ port: number }>`SELECT inet_server_port() AS port`, (rows) => rows[0]!.port))
        expect(yield* port).toBe(a.port)
        yield* setReadOnly(a, true)
        // the session on a is read-only now, and its client is never told (the proxy drops the
        // ParameterStatus): reads still work there until the health check asks
        yield* eventually("moved to b", Effect.map(port, (p) => p === b.port), 30_000)
        expect(filter.dropped()).toBeGreaterThan(0)
      }).pipe(Effect.provide(overAB(appName(), {
        port: [filter.port, b.port],
        max: 1,
        healthCheck: { schedule: Schedule.spaced("100 millis") }
      })))
    }).pipe(Effect.scoped, Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("per-host stats: each host's connections, the last connection error and refusal", () =>
    Effect.gen(function*() {
      const down = yield* Effect.promise(freePort)
      yield* setReadOnly(a, true)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        yield* Effect.all([1, 2].map(() => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        const stats = yield* pgPool.stats
        expect(stats.hosts).toHaveLength(3)
        expect(stats.hosts[0]).toMatchObject({ port: down, connections: 0, idle: 0 })
        expect(stats.hosts[0]!.lastError).toMatch(/ECONNREFUSED/)
        expect(stats.hosts[1]).toEqual({
          host: "127.0.0.1",
          port: a.port,
          connections: 0,
          idle: 0,
          lastMismatch: "not in recovery, read-only by default; wanted read-write"
        })
        expect(stats.hosts[2]).toEqual({ host: "127.0.0.1", port: b.port, connections: 2, idle: 2 })
        expect(stats.size).toBe(2)
        // the gauges, refreshed by the read, labelled pool + host
        const pairs = yield* Metric.snapshot
        const gauge = (metric: string, host: string) =>
          (pairs.find((p) =>
            p.metricKey.name === metric &&
            p.metricKey.tags.some((t) => t.key === "pool" && t.value === "hosts-stats") &&
            p.metricKey.tags.some((t) => t.key === "host" && t.value === host)
          )?.metricState as { value?: number } | undefined)?.value
        expect(gauge("effect_pool_pg_host_connections", `127.0.0.1:${b.port}`)).toBe(2)
        expect(gauge("effect_pool_pg_host_idle", `127.0.0.1:${b.port}`)).toBe(2)
        expect(gauge("effect_pool_pg_host_connections", `127.0.0.1:${a.port}`)).toBe(0)
      }).pipe(Effect.provide(overAB(appName(), { name: "hosts-stats", host: ["127.0.0.1", "127.0.0.1", "127.0.0.1"], port: [down, a.port, b.port] })))
      // one server: its counts are the pool's
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        yield* sql`SELECT 1`
        expect((yield* pgPool.stats).hosts).toEqual([{ host: "127.0.0.1", port: b.port, connections: 1, idle: 1 }])
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(`postgres://postgres:postgres@127.0.0.1:${b.port}/postgres`) })))
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)
})

describe("a transaction is never split across servers", () => {
  const rowsOn = (server: TestServer, t: string) =>
    onServer(server, async (c) => (await c.query(`SELECT id, port FROM ${t} ORDER BY id`)).rows as Array<{ id: number; port: number }>)
  const createOnBoth = (t: string) =>
    Effect.forEach([a, b], (server) => onServer(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, port int)`)))

  it.live("the server switches role mid-transaction: it finishes where it began, then that server's connections go", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      yield* createOnBoth(t)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const ports = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1, inet_server_port())`
          // a turns read-only mid-transaction: this one began read-write and stays so
          yield* setReadOnly(a, true)
          yield* sql`INSERT INTO ${sql(t)} VALUES (2, inet_server_port())`
          return yield* sql<{ port: number }>`SELECT port FROM ${sql(t)} ORDER BY id`
        }))
        expect(ports.map((r) => r.port)).toEqual([a.port, a.port])
        // after it, writes go to b (the first may meet a's read-only state once)
        yield* Effect.retry(sql`INSERT INTO ${sql(t)} VALUES (3, inet_server_port())`, { while: PgPool.isReadOnlyError, times: 3 })
        yield* eventually("a's connections evicted", Effect.map(pidsOn(a, name), (pids) => pids.length === 0), 10_000)
      }).pipe(Effect.provide(overAB(name)))
      expect(yield* rowsOn(a, t)).toEqual([{ id: 1, port: a.port }, { id: 2, port: a.port }])
      expect(yield* rowsOn(b, t)).toEqual([{ id: 3, port: b.port }])
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("while a read-only signal is being confirmed its host is suspended: the next write goes to the other host at once, then the host's connections go", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      yield* createOnBoth(t)
      // a reached through a proxy that can hold new sessions: the confirmation's among them
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(a.port)), (p) => Effect.promise(() => p.close()))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        const [on] = yield* sql<{ port: number }>`SELECT inet_server_port() AS port`
        expect(on!.port).toBe(a.port)
        proxy.stallNew(true)
        yield* setReadOnly(a, true)
        // the write that meets a's new state fails (25006): a's connections are suspended, a
        // fresh session on a asked — and held by the proxy
        const refused = yield* Effect.flip(sql`INSERT INTO ${sql(t)} VALUES (1, inet_server_port())`)
        expect(PgPool.isReadOnlyError(refused)).toBe(true)
        yield* eventually("the confirmation waits", Effect.sync(() => proxy.stalled() > 0), 10_000)
        // meanwhile no write is lent a's connection: the next one goes to b, first time
        const [row] = yield* sql<{ port: number }>`INSERT INTO ${sql(t)} VALUES (2, inet_server_port()) RETURNING port`
        expect(row!.port).toBe(b.port)
        expect((yield* pidsOn(a, name))).toHaveLength(1)
        expect((yield* pgPool.stats).hosts[0]!.lastMismatch).toBeUndefined()
        // the answer: a is read-only, its connections go
        proxy.stallNew(false)
        yield* eventually("a's connections evicted", Effect.map(pidsOn(a, name), (pids) => pids.length === 0), 10_000)
        expect((yield* pgPool.stats).hosts[0]!.lastMismatch).toMatch(/read-only/)
      }).pipe(Effect.provide(overAB(name, { port: [proxy.port, b.port], max: 3 })))
      expect(yield* rowsOn(a, t)).toEqual([])
      expect(yield* rowsOn(b, t)).toEqual([{ id: 2, port: b.port }])
    }).pipe(Effect.scoped, Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("a pool that closes while a read-only signal is being confirmed ends the confirmation: its fresh session closes with the pool", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      yield* createOnBoth(t)
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(a.port)), (p) => Effect.promise(() => p.close()))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`SELECT 1`
        proxy.stallNew(true)
        yield* setReadOnly(a, true)
        yield* Effect.flip(sql`INSERT INTO ${sql(t)} VALUES (1, inet_server_port())`)
        yield* eventually("the confirmation waits", Effect.sync(() => proxy.stalled() > 0), 10_000)
        // a connect timeout far beyond the wait below: only the pool's close can end it
      }).pipe(Effect.provide(overAB(name, { port: [proxy.port, b.port], max: 3, connectTimeout: "5 minutes" })))
      yield* eventually("the fresh session closed with the pool", Effect.sync(() => proxy.stalled() === 0), 20_000)
    }).pipe(Effect.scoped, Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("the server dies mid-transaction: the transaction fails with the real cause, none of it runs on another server, the pool goes on on the other host", () =>
    Effect.suspend(() => {
      let stopped = false
      return Effect.gen(function*() {
      const name = appName()
      const t = table()
      yield* createOnBoth(t)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        let after = 0
        const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1, inet_server_port())`
          yield* Effect.promise(() => a.stop())
          stopped = true
          after++
          yield* sql`INSERT INTO ${sql(t)} VALUES (2, inet_server_port())`
          after++
          yield* sql`INSERT INTO ${sql(t)} VALUES (3, inet_server_port())`
        })))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(after).toBe(1)
        // the real cause: the server's shutdown (57P01) or the lost connection, not a pool error
        expect(causeText(Exit.isFailure(exit) ? exit.cause : undefined)).toMatch(/terminat|Connection is broken|connection ended|ECONNRESET/i)
        expect(causeText(Exit.isFailure(exit) ? exit.cause : undefined)).not.toMatch(/PoolClosed|Timeout/)
        // the pool goes on on b
        const rows = yield* sql<{ port: number }>`INSERT INTO ${sql(t)} VALUES (4, inet_server_port()) RETURNING port`
        expect(rows[0]!.port).toBe(b.port)
        expect((yield* pgPool.stats).hosts.map((h) => [h.port, h.connections])).toEqual([[a.port, 0], [b.port, 1]])
      }).pipe(Effect.provide(overAB(name, { targetSessionAttrs: "any" })))
      // nothing of the transaction reached b
      expect(yield* rowsOn(b, t)).toEqual([{ id: 4, port: b.port }])
      yield* Effect.promise(() => a.start())
      stopped = false
      // a lost the transaction as a whole
      expect(yield* rowsOn(a, t)).toEqual([])
    }).pipe(Effect.ensuring(Effect.promise(() => (stopped ? a.start() : Promise.resolve()))))
    }), 90_000)
})
