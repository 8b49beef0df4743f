/**
 * More than one server on real embedded Postgres: a primary, a server read-only by default and a
 * REAL hot standby of the primary. Routing per targetSessionAttrs, a host down at start, random
 * order, hostile options, and a switchover under load.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { PgPool } from "@effect-pool/pg"
import { startServer, startServerWith, startStandby, switchover, type TestServer } from "@effect-pool/testing"
import { freePort } from "@effect-pool/testing"
import { PgClient } from "@effect/sql-pg"
import { Chunk, Effect, Exit, Fiber, Layer, Redacted, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { causeText, eventually } from "./helpers.js"

let primary: TestServer
let readOnly: TestServer
let standby: TestServer
const owned: Array<TestServer> = []

beforeAll(async () => {
  ;[primary, readOnly] = await Promise.all([startServer(), startServerWith({ settings: { default_transaction_read_only: "on" } })])
  owned.push(primary, readOnly)
  standby = await startStandby(primary)
  owned.push(standby)
}, 180_000)
afterAll(() => Promise.all(owned.map((s) => s.dispose())), 60_000)

const hostsUrl = (servers: ReadonlyArray<{ port: number }>, query = "") =>
  `postgres://postgres:postgres@${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}/postgres${query}`

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
      const setReadOnly = (on: boolean) =>
        Effect.promise(async () => {
          const pg = (await import("pg")).default
          const c = new pg.Client({ connectionString: primary.url })
          await c.connect()
          await c.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? "on" : "off"}`)
          await c.query("SELECT pg_reload_conf()")
          await c.end()
        })
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
