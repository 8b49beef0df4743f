/**
 * More than one server, against real embedded Postgres servers: routing per
 * `targetSessionAttrs`, hosts down at start, random order, a server made read-only at run time
 * (ALTER SYSTEM default_transaction_read_only + reload, the stand-in for a switchover), a
 * switchover under load with every committed row present exactly once, transactions never
 * split across servers, and every new option's hostile values.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Pool } from "@effect-pool/core"
import { PgPool } from "@effect-pool/pg"
import { startParameterFilter, startServer, startTcpProxy, type TestServer } from "@effect-pool/testing-effect4"
import { Effect, Exit, Fiber, Layer, Metric, Redacted, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql"
import net from "node:net"
import { causeText, eventually, onServer as on, poolOver, serverPort, table } from "./helpers.js"

let a: TestServer
let b: TestServer
/** A port nothing listens on: a host that is down. */
let downPort: number

beforeAll(async () => {
  ;[a, b] = await Promise.all([startServer(), startServer()])
  downPort = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}, 120_000)
afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()])
}, 60_000)

/**
 * The stand-in for a standby / a demoted primary: every new transaction read-only. Returns once
 * the postmaster has reloaded (a new session sees the value): it has then signalled every
 * backend, each of which applies and reports it with its next statement.
 */
const setReadOnly = (server: TestServer, readOnly: boolean) =>
  Effect.andThen(
    on(server, (c) =>
      Effect.andThen(
        c.query(`ALTER SYSTEM SET default_transaction_read_only = ${readOnly ? "on" : "off"}`, [], false),
        c.query("SELECT pg_reload_conf()", [], false)
      )),
    eventually(
      `${server.port} read-only ${readOnly}`,
      on(server, (c) =>
        Effect.map(c.query("SHOW default_transaction_read_only", [], false), (r) => r.rows[0]!.default_transaction_read_only === (readOnly ? "on" : "off"))),
      10_000
    )
  )

const connectionsOn = (server: TestServer, applicationName: string) =>
  on(server, (c) =>
    Effect.map(
      c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]),
      (r) => Number(r.rows[0]!.n)
    ))

/** The backend pids of the pool's connections on `server` (by application name). */
const pidsOn = (server: TestServer, applicationName: string) =>
  on(server, (c) =>
    Effect.map(
      c.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [applicationName]),
      (r) => r.rows.map((row) => Number(row.pid))
    ))

let names = 0
const appName = () => `hosts-${process.pid}-${names++}`

type Loose = Record<string, unknown>

const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) return expect.fail("succeeded")
    const reason = exit.cause.reasons[0]
    return reason?._tag === "Fail" ? reason.error : reason
  })

describe("PgPool over several hosts", () => {
  it.live("routes by targetSessionAttrs (libpq's meaning), trying hosts in order", () =>
    Effect.gen(function*() {
      yield* setReadOnly(b, true)
      const land = (ports: ReadonlyArray<number>, targetSessionAttrs: string) =>
        Effect.provide(serverPort, poolOver(ports, { targetSessionAttrs, applicationName: appName() }))
      // read-write skips the read-only server, read-only takes it
      expect(yield* land([b.port, a.port], "read-write")).toBe(a.port)
      expect(yield* land([a.port, b.port], "read-only")).toBe(b.port)
      // any and primary take the first that answers (neither is in recovery)
      expect(yield* land([b.port, a.port], "any")).toBe(b.port)
      expect(yield* land([b.port, a.port], "primary")).toBe(b.port)
      // prefer-standby: no standby here, so libpq's second pass takes the first server
      expect(yield* land([a.port, b.port], "prefer-standby")).toBe(a.port)
      // standby: none matches — the error names every host and why
      const error = yield* failureOf(
        Effect.provide(serverPort, poolOver([a.port, b.port], { targetSessionAttrs: "standby", acquireTimeout: "2 seconds" }))
      )
      const text = causeText(error)
      expect(text).toContain(`127.0.0.1:${a.port}: not in recovery, read-write by default; wanted standby`)
      expect(text).toContain(`127.0.0.1:${b.port}: not in recovery, read-only by default; wanted standby`)
    }).pipe(Effect.ensuring(setReadOnly(b, false))), 60_000)

  it.live("the URL's host list, target_session_attrs and load_balance_hosts are read as libpq reads them", () =>
    Effect.gen(function*() {
      yield* setReadOnly(a, true)
      const url = `postgres://postgres:postgres@127.0.0.1:${a.port},127.0.0.1:${b.port}/postgres?target_session_attrs=read-write`
      const port = yield* Effect.provide(serverPort, PgPool.layer({ url: Redacted.make(url), applicationName: appName() }))
      expect(port).toBe(b.port)
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("a host that is down at start: the next is tried; all down names each host and its error", () =>
    Effect.gen(function*() {
      expect(yield* Effect.provide(serverPort, poolOver([downPort, a.port]))).toBe(a.port)
      const error = yield* failureOf(
        Effect.provide(serverPort, poolOver([downPort, downPort + 0], { acquireTimeout: "2 seconds", createRetry: Schedule.recurs(0) }))
      )
      expect(causeText(error)).toContain(`127.0.0.1:${downPort}`)
      expect(causeText(error)).toMatch(/ECONNREFUSED|Failed to connect/)
    }), 60_000)

  it.live("loadBalanceHosts: random spreads connections over the hosts", () =>
    Effect.gen(function*() {
      const name = appName()
      const ports = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // 16 connections at once, each asked where it is
        return yield* Effect.all(
          Array.from({ length: 16 }, () => Effect.map(sql<{ port: number }>`SELECT current_setting('port')::int AS port, pg_sleep(0.2)`, (r) => r[0]!.port)),
          { concurrency: "unbounded" }
        )
      }).pipe(Effect.provide(poolOver([a.port, b.port], { loadBalanceHosts: "random", max: 16, applicationName: name })))
      // with in-order tries every connection would be on a (2 × 2^-16 that random puts all on one)
      expect(new Set(ports)).toEqual(new Set([a.port, b.port]))
    }), 60_000)

  it.live("a server made read-only: the write is that statement's typed error, the host's connections go, the pool reconnects where writes go", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY)`))
      yield* setReadOnly(b, true)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* Effect.all(Array.from({ length: 3 }, (_, i) => sql`INSERT INTO ${sql(t)} VALUES (${i}), (${i + 100}) RETURNING pg_sleep(0.05)`), {
          concurrency: "unbounded"
        })
        expect(yield* connectionsOn(a, name)).toBe(3)
        // switchover stand-in: a demoted, b promoted
        yield* setReadOnly(a, true)
        yield* setReadOnly(b, false)
        const error = yield* failureOf(sql`INSERT INTO ${sql(t)} VALUES (${10})`)
        expect(PgPool.isReadOnlyError(error)).toBe(true)
        // every connection to a is gone (the idle ones now), none lent again
        yield* eventually("a's connections evicted", Effect.map(connectionsOn(a, name), (n) => n === 0), 10_000)
        // the retry lands on b
        yield* sql`INSERT INTO ${sql(t)} VALUES (${10})`
        expect(yield* serverPort).toBe(b.port)
        expect((yield* pg.stats).borrowed).toBe(0)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 3 })))
      expect(yield* on(b, (c) => Effect.map(c.query(`SELECT array_agg(id)::int[] AS ids FROM ${t}`), (r) => r.rows[0]!.ids))).toEqual([10])
    }).pipe(Effect.ensuring(Effect.andThen(setReadOnly(a, false), setReadOnly(b, false)))), 60_000)

  it.live("a server that stops matching loses only its own connections: the other host's idle ones survive (the same backend pids)", () =>
    Effect.gen(function*() {
      const name = appName()
      const pidsOn = (server: TestServer) =>
        on(server, (c) =>
          Effect.map(
            c.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [name]),
            (r) => r.rows.map((row) => row.pid as number)
          ))
      yield* Effect.gen(function*() {
        const pg = yield* PgPool.PgPool
        /** Borrows `n` connections at once, each in its own scope (returned when it closes). */
        const hold = (n: number) =>
          Effect.all(
            Array.from({ length: n }, () =>
              Effect.flatMap(Scope.make(), (scope) => Effect.map(Scope.provide(Pool.get(pg.pool), scope), (conn) => ({ conn, scope })))),
            { concurrency: "unbounded" }
          )
        const giveBack = (held: { readonly scope: Scope.Closeable }) => Scope.close(held.scope, Exit.void)
        const portOf = (conn: PgPool.PooledConnection) =>
          Effect.map(Effect.orDie(conn.pg.query("SELECT current_setting('port')::int AS port", [], false)), (r) => r.rows[0]!.port as number)
        // a read-only: the first two connections land on b; a writable again: the next two on a
        yield* setReadOnly(a, true)
        const [b1, b2] = yield* hold(2)
        yield* setReadOnly(a, false)
        const heldA = yield* hold(2)
        expect(yield* Effect.forEach([b1!, b2!, ...heldA], (h) => portOf(h.conn))).toEqual([b.port, b.port, a.port, a.port])
        const aPids = yield* pidsOn(a)
        expect(aPids).toEqual(heldA.map((h) => h.conn.pid).sort((x, y) => x - y))
        // idle: a's two and one of b's; b1 stays borrowed
        yield* Effect.forEach([...heldA, b2!], giveBack)
        expect((yield* pg.stats).idle).toBe(3)
        // b turns read-only; b1 hears it (ParameterStatus) at its next round trip
        yield* setReadOnly(b, true)
        yield* Effect.orDie(b1!.conn.pg.query("SELECT 1", [], false))
        yield* eventually("b's idle connection evicted", Effect.map(pidsOn(b), (pids) => !pids.includes(b2!.conn.pid)), 10_000)
        expect(yield* pidsOn(a)).toEqual(aPids)
        const stats = yield* pg.stats
        expect(stats.idle).toBe(2)
        expect(stats.hosts).toEqual([
          { host: "127.0.0.1", port: a.port, connections: 2, idle: 2 },
          { host: "127.0.0.1", port: b.port, connections: 0, idle: 0, lastMismatch: "now not in recovery, read-only by default; wanted read-write" }
        ])
        // the borrowed one is destroyed when returned, never lent again
        yield* giveBack(b1!)
        yield* eventually("b's connections gone", Effect.map(pidsOn(b), (pids) => pids.length === 0), 10_000)
        expect(yield* pidsOn(a)).toEqual(aPids)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 4 })))
    }).pipe(Effect.ensuring(Effect.andThen(setReadOnly(a, false), setReadOnly(b, false)))), 60_000)

  it.live("libpq's url form with the hosts in the query (?host=h1,h2&port=p1,p2, or one ?host= after a user) connects", () =>
    Effect.gen(function*() {
      const url = (query: string) => Redacted.make(`postgres://postgres:postgres@/postgres?${query}`)
      const land = (query: string) =>
        Effect.provide(serverPort, PgPool.layer({ url: url(query), applicationName: appName(), acquireTimeout: "20 seconds" }))
      expect(yield* land(`host=127.0.0.1,127.0.0.1&port=${a.port},${b.port}&target_session_attrs=read-write`)).toBe(a.port)
      expect(yield* land(`host=127.0.0.1&port=${b.port}`)).toBe(b.port)
    }), 60_000)

  it.live("a transaction's or session's own read-only-ness is not the server's: no host eviction, no mismatch", () =>
    Effect.gen(function*() {
      const t = table()
      const name = `own-ro-${process.pid}`
      yield* on(a, (c) => c.query(`CREATE TABLE ${t} (id int)`, [], false))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pgPool = yield* PgPool.PgPool
        yield* Effect.all([1, 2, 3, 4].map(() => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        expect(yield* connectionsOn(a, name)).toBe(4)
        const refused = yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
          yield* sql`SET TRANSACTION READ ONLY`
          yield* sql`INSERT INTO ${sql(t)} VALUES (1)`
        })))
        expect(PgPool.isReadOnlyError(refused)).toBe(true)
        yield* Effect.sleep("500 millis")
        const pids = yield* pidsOn(a, name)
        expect(pids).toHaveLength(4)
        expect((yield* pgPool.stats).hosts[0]).toEqual({ host: "127.0.0.1", port: a.port, connections: 4, idle: 4 })
        // a session's own SET default_transaction_read_only: that session is dirty, discarded when
        // returned; the host's other connections stay
        const own = yield* Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          const [row] = yield* conn.execute("SELECT pg_backend_pid() AS pid", [], undefined)
          yield* conn.executeRaw("SET default_transaction_read_only = on", [])
          const write = yield* Effect.flip(conn.executeRaw(`INSERT INTO ${t} VALUES (2)`, []))
          expect(PgPool.isReadOnlyError(write)).toBe(true)
          return Number((row as { pid: number }).pid)
        }))
        yield* eventually("that session discarded", Effect.map(pidsOn(a, name), (now) => !now.includes(own)), 10_000)
        expect(yield* pidsOn(a, name)).toEqual(pids.filter((p) => p !== own))
        expect((yield* pgPool.stats).hosts[0]).toEqual({ host: "127.0.0.1", port: a.port, connections: 3, idle: 3 })
        const [row] = yield* sql<{ ok: number }>`INSERT INTO ${sql(t)} VALUES (3) RETURNING 1 AS ok`
        expect(row!.ok).toBe(1)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 4 })))
    }), 60_000)

  it.live("per-host stats: each host's connections, the last connection error and refusal; one server's are the pool's", () =>
    Effect.gen(function*() {
      yield* setReadOnly(a, true)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* Effect.all([1, 2].map(() => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        const stats = yield* pg.stats
        expect(stats.hosts).toHaveLength(3)
        expect(stats.hosts[0]).toMatchObject({ port: downPort, connections: 0, idle: 0 })
        expect(stats.hosts[0]!.lastError).toMatch(/ECONNREFUSED|connect/i)
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
          (pairs.find((p) => p.id === metric && p.attributes?.pool === "hosts-stats" && p.attributes?.host === host)?.state as
            | { value?: number }
            | undefined)?.value
        expect(gauge("effect_pool_pg_host_connections", `127.0.0.1:${b.port}`)).toBe(2)
        expect(gauge("effect_pool_pg_host_idle", `127.0.0.1:${b.port}`)).toBe(2)
        expect(gauge("effect_pool_pg_host_connections", `127.0.0.1:${a.port}`)).toBe(0)
      }).pipe(Effect.provide(poolOver([downPort, a.port, b.port], { name: "hosts-stats", targetSessionAttrs: "read-write", applicationName: appName() })))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* sql`SELECT 1`
        expect((yield* pg.stats).hosts).toEqual([{ host: "127.0.0.1", port: b.port, connections: 1, idle: 1 }])
      }).pipe(Effect.provide(PgPool.layer({ url: Redacted.make(`postgres://postgres:postgres@127.0.0.1:${b.port}/postgres`) })))
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("validation after idle finds the changed server: the borrower never sees it", () =>
    Effect.gen(function*() {
      const name = appName()
      yield* Effect.gen(function*() {
        expect(yield* serverPort).toBe(a.port)
        yield* setReadOnly(a, true)
        // the idle connection on a fails its SELECT 1 check (the reload is reported with it)
        expect(yield* serverPort).toBe(b.port)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, validateAfterIdle: 0 })))
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("servers that report no session state (as before Postgres 14): routed by the state asked, and a change they never report is found by the health check", () =>
    Effect.gen(function*() {
      // in front of each server, a proxy dropping in_hot_standby and default_transaction_read_only
      const filters = yield* Effect.acquireRelease(
        Effect.promise(() => Promise.all([a, b].map((server) => startParameterFilter(server.port, ["in_hot_standby", "default_transaction_read_only"])))),
        (started) => Effect.promise(() => Promise.all(started.map((f) => f.close())))
      )
      const ports = filters.map((f) => f.port)
      yield* setReadOnly(b, true)
      expect(yield* Effect.provide(serverPort, poolOver(ports, { targetSessionAttrs: "read-only", applicationName: appName() }))).toBe(b.port)
      yield* setReadOnly(b, false)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const port = Effect.orDie(Effect.provideService(serverPort, SqlClient.SqlClient, sql))
        expect(yield* port).toBe(a.port)
        yield* setReadOnly(a, true)
        // the session on a is read-only now and its client never told (the proxy drops the
        // ParameterStatus): reads still work there until the health check asks
        yield* eventually("moved to b", Effect.map(port, (p) => p === b.port), 30_000)
        expect(filters.map((f) => f.dropped() > 0)).toEqual([true, true])
      }).pipe(Effect.provide(poolOver(ports, {
        targetSessionAttrs: "read-write",
        applicationName: appName(),
        max: 1,
        healthCheck: { schedule: Schedule.spaced("100 millis") }
      })))
    }).pipe(Effect.scoped, Effect.ensuring(Effect.andThen(setReadOnly(a, false), setReadOnly(b, false)))), 60_000)

  it.live("a transaction is never split: it finishes on the server it began on, then that server's connections go", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, port int)`))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const ports = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ${sql(t)} VALUES (1, current_setting('port')::int)`
          // the server turns read-only mid-transaction: this one was begun read-write and stays so
          yield* setReadOnly(a, true)
          yield* sql`INSERT INTO ${sql(t)} VALUES (2, current_setting('port')::int)`
          return yield* sql<{ port: number }>`SELECT port FROM ${sql(t)} ORDER BY id`
        }))
        expect(ports.map((r) => r.port)).toEqual([a.port, a.port])
        // after it, writes go to b: the first may meet a's read-only state once
        yield* Effect.retry(sql`INSERT INTO ${sql(t)} VALUES (3, current_setting('port')::int)`, {
          while: PgPool.isReadOnlyError,
          times: 3
        })
        yield* eventually("a's connections evicted", Effect.map(connectionsOn(a, name), (n) => n === 0), 10_000)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name })))
      const rows = (server: TestServer) =>
        on(server, (c) => Effect.map(c.query(`SELECT id FROM ${t} ORDER BY id`), (r) => r.rows.map((row) => row.id)))
      expect(yield* rows(a)).toEqual([1, 2])
      expect(yield* rows(b)).toEqual([3])
    }).pipe(Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("while a read-only signal is being confirmed its host is suspended: the next write goes to the other host at once, then the host's connections go", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, port int)`))
      // a reached through a proxy that can hold new sessions: the confirmation's among them
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(a.port)), (p) => Effect.promise(() => p.close()))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        expect(yield* serverPort).toBe(a.port)
        proxy.stallNew(true)
        yield* setReadOnly(a, true)
        // the write that meets a's new state fails (25006): a's connections are suspended, a
        // fresh session on a asked — and held by the proxy
        const refused = yield* Effect.flip(sql`INSERT INTO ${sql(t)} VALUES (1, current_setting('port')::int)`)
        expect(PgPool.isReadOnlyError(refused)).toBe(true)
        yield* eventually("the confirmation waits", Effect.sync(() => proxy.stalled() > 0), 10_000)
        // meanwhile no write is lent a's connection: the next one goes to b, first time
        const [row] = yield* sql<{ port: number }>`INSERT INTO ${sql(t)} VALUES (2, current_setting('port')::int) RETURNING port`
        expect(row!.port).toBe(b.port)
        expect(yield* connectionsOn(a, name)).toBe(1)
        expect((yield* pg.stats).hosts[0]!.lastMismatch).toBeUndefined()
        // the answer: a is read-only, its connections go
        proxy.stallNew(false)
        yield* eventually("a's connections evicted", Effect.map(connectionsOn(a, name), (n) => n === 0), 10_000)
        expect((yield* pg.stats).hosts[0]!.lastMismatch).toMatch(/read-only/)
      }).pipe(Effect.provide(poolOver([proxy.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 3 })))
      const rows = (server: TestServer) =>
        on(server, (c) => Effect.map(c.query(`SELECT id, port FROM ${t} ORDER BY id`), (r) => r.rows))
      expect(yield* rows(a)).toEqual([])
      expect(yield* rows(b)).toEqual([{ id: 2, port: b.port }])
    }).pipe(Effect.scoped, Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("a pool that closes while a read-only signal is being confirmed ends the confirmation: its fresh session closes with the pool", () =>
    Effect.gen(function*() {
      const name = appName()
      const t = table()
      for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, port int)`))
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => startTcpProxy(a.port)), (p) => Effect.promise(() => p.close()))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* serverPort).toBe(a.port)
        proxy.stallNew(true)
        yield* setReadOnly(a, true)
        yield* Effect.flip(sql`INSERT INTO ${sql(t)} VALUES (1, current_setting('port')::int)`)
        yield* eventually("the confirmation waits", Effect.sync(() => proxy.stalled() > 0), 10_000)
        // a connect timeout far beyond the wait below: only the pool's close can end it
      }).pipe(Effect.provide(poolOver([proxy.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 3, connectTimeout: "5 minutes" })))
      yield* eventually("the fresh session closed with the pool", Effect.sync(() => proxy.stalled() === 0), 20_000)
    }).pipe(Effect.scoped, Effect.ensuring(setReadOnly(a, false))), 60_000)

  it.live("the server dies mid-transaction: the transaction fails with the real cause, none of it runs on another server, the pool goes on on the other host", () =>
    Effect.suspend(() => {
      let stopped = false
      return Effect.gen(function*() {
        const name = appName()
        const t = table()
        for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, port int)`))
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const pg = yield* PgPool.PgPool
          let after = 0
          const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO ${sql(t)} VALUES (1, current_setting('port')::int)`
            yield* Effect.promise(() => a.stop())
            stopped = true
            after++
            yield* sql`INSERT INTO ${sql(t)} VALUES (2, current_setting('port')::int)`
            after++
            yield* sql`INSERT INTO ${sql(t)} VALUES (3, current_setting('port')::int)`
          })))
          expect(Exit.isFailure(exit)).toBe(true)
          expect(after).toBe(1)
          // the real cause: the server's shutdown or the lost connection, not a pool error
          const text = causeText(Exit.isFailure(exit) ? exit.cause : undefined)
          expect(text).toMatch(/terminat|closed|ECONNRESET|connection/i)
          expect(text).not.toMatch(/PoolClosed|Timeout/)
          // the pool goes on on b
          expect(yield* serverPort).toBe(b.port)
          expect((yield* pg.stats).hosts.map((h) => [h.port, h.connections])).toEqual([[a.port, 0], [b.port, 1]])
        }).pipe(Effect.provide(poolOver([a.port, b.port], { applicationName: name })))
        // nothing of the transaction reached b
        expect(yield* on(b, (c) => Effect.map(c.query(`SELECT count(*)::int AS n FROM ${t}`), (r) => r.rows[0]!.n))).toBe(0)
        yield* Effect.promise(() => a.start())
        stopped = false
        // a lost the transaction as a whole
        expect(yield* on(a, (c) => Effect.map(c.query(`SELECT count(*)::int AS n FROM ${t}`), (r) => r.rows[0]!.n))).toBe(0)
      }).pipe(Effect.ensuring(Effect.promise(() => (stopped ? a.start() : Promise.resolve()))))
    }), 90_000)

  for (const multiplex of [false, true]) {
    it.live(`a switchover under load (multiplex: ${multiplex}): every committed row present exactly once`, () =>
      Effect.gen(function*() {
        const name = appName()
        const t = table()
        for (const server of [a, b]) yield* on(server, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY)`))
        yield* setReadOnly(b, true)
        const N = 400
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          let done = 0
          // idempotent client ids: a retry of a write that did commit cannot add it twice
          const write = (id: number) =>
            sql`INSERT INTO ${sql(t)} VALUES (${id}) ON CONFLICT DO NOTHING`.pipe(
              Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 200 }),
              Effect.tap(() => Effect.sync(() => done++))
            )
          const load = yield* Effect.forkChild(
            Effect.all(Array.from({ length: N }, (_, id) => write(id)), { concurrency: 8, discard: true })
          )
          yield* eventually("writes under way", () => done >= N / 4, 30_000)
          yield* setReadOnly(a, true)
          yield* setReadOnly(b, false)
          yield* Fiber.join(load)
        }).pipe(Effect.provide(poolOver([a.port, b.port], { targetSessionAttrs: "read-write", applicationName: name, max: 4, multiplex })))
        const ids = (server: TestServer) =>
          on(server, (c) => Effect.map(c.query(`SELECT id FROM ${t}`), (r) => r.rows.map((row) => row.id as number)))
        const onA = yield* ids(a)
        const onB = yield* ids(b)
        expect(onA.length).toBeGreaterThan(0)
        expect(onB.length).toBeGreaterThan(0)
        // no row on both servers, none lost
        expect(onA.filter((id) => onB.includes(id))).toEqual([])
        expect([...onA, ...onB].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, id) => id))
      }).pipe(Effect.ensuring(Effect.andThen(setReadOnly(a, false), setReadOnly(b, false)))), 120_000)
  }

  it.live("a server that goes down under use: its connections go, statements move to the next host, it is used again once back", () =>
    Effect.gen(function*() {
      const name = appName()
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pg = yield* PgPool.PgPool
        yield* Effect.all(Array.from({ length: 3 }, () => sql`SELECT pg_sleep(0.05)`), { concurrency: "unbounded" })
        expect(yield* serverPort).toBe(a.port)
        yield* Effect.promise(() => a.stop())
        // the shutdown (57P01) reaches the idle sessions: all three go, none is lent to fail
        yield* eventually("a's connections evicted", Effect.map(pg.stats, (stats) => stats.size === 0), 10_000)
        expect(yield* serverPort).toBe(b.port)
        expect((yield* pg.stats).borrowed).toBe(0)
      }).pipe(Effect.provide(poolOver([a.port, b.port], { applicationName: name, max: 4 })))
      // back: new connections go to it first again
      yield* Effect.promise(() => a.start())
      expect(yield* Effect.provide(serverPort, poolOver([a.port, b.port], { applicationName: appName() }))).toBe(a.port)
    }), 90_000)
})

describe("PgPool several-host options, hostile", () => {
  const rejects = (options: Loose, option: string) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(PgPool.layer({ username: "u", ...options } as PgPool.Options))))
      if (Exit.isSuccess(exit)) return expect.fail(`accepted ${JSON.stringify(options)}`)
      const reason = exit.cause.reasons[0]
      const error = reason?._tag === "Fail" ? reason.error : undefined
      expect(error?._tag, String(reason)).toBe("PoolConfigError")
      expect(error!.option).toBe(option)
    })
  const cases: ReadonlyArray<readonly [Loose, string]> = [
    [{ host: [] }, "host"],
    [{ host: [""] }, "host"],
    [{ host: ["a", 5] }, "host"],
    [{ host: "a,,b" }, "host"],
    [{ host: {} }, "host"],
    [{ host: 42 }, "host"],
    [{ host: ["a", "b"], port: [1, 2, 3] }, "port"],
    [{ host: "a,b,c", port: "1,2" }, "port"],
    [{ port: "5432,x" }, "port"],
    [{ port: [0] }, "port"],
    [{ port: [65_536] }, "port"],
    [{ port: NaN }, "port"],
    [{ port: Infinity }, "port"],
    [{ port: 5432.5 }, "port"],
    [{ port: [] }, "port"],
    [{ port: {} }, "port"],
    [{ targetSessionAttrs: "master" }, "targetSessionAttrs"],
    [{ targetSessionAttrs: 42 }, "targetSessionAttrs"],
    [{ targetSessionAttrs: "" }, "targetSessionAttrs"],
    [{ targetSessionAttrs: null }, "targetSessionAttrs"],
    [{ loadBalanceHosts: true }, "loadBalanceHosts"],
    [{ loadBalanceHosts: "round-robin" }, "loadBalanceHosts"],
    // the URL's parameters are named as the options they set (the engine's parseTarget)
    [{ url: Redacted.make("postgres://u@h1:5432,h2:5433/db?target_session_attrs=master") }, "targetSessionAttrs"],
    [{ url: Redacted.make("postgres://u@h1:5432,h2:5433/db?load_balance_hosts=yes") }, "loadBalanceHosts"],
    [{ url: Redacted.make("postgres://u@h1:5432,:5433/db") }, "url"],
    [{ url: Redacted.make("postgres://u@h1:5432,h2:99999/db") }, "url"],
    [{ url: Redacted.make("postgres://u@h1:5432,h2:x/db") }, "url"]
  ]
  for (const [options, option] of cases) {
    it.effect(`${JSON.stringify(options, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : Redacted.isRedacted(v) ? Redacted.value(v) : v))} → ${option}`, () =>
      rejects(options, option))
  }

  it.effect("valid lists build (no connection is made at build)", () =>
    Effect.gen(function*() {
      for (
        const options of [
          { host: "h1,h2", port: "5432,5433" },
          { host: ["h1", "h2"], port: 5432 },
          { host: ["h1", "h2"], port: [5432, 5433], targetSessionAttrs: "prefer-standby", loadBalanceHosts: "random" },
          { url: Redacted.make("postgres://u@[::1]:5432,h2/db?target_session_attrs=standby&load_balance_hosts=random") },
          { host: "h1", port: "5433" }
        ]
      ) {
        yield* Effect.scoped(Layer.build(PgPool.layer({ username: "u", ...options } as PgPool.Options)))
      }
    }))
})
