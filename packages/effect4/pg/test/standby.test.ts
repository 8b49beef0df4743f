/**
 * A REAL hot standby (the kit's `startStandby`: a copy of a stopped primary's data directory
 * streaming from it): routing by recovery state, and a switchover under load (the primary stopped,
 * the standby promoted) with every committed row present exactly once on the new primary.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { startServer, startStandby, switchover, type TestServer } from "@effect-pool/testing-effect4"
import { Effect, Fiber, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { eventually, onServer as on, poolOver, serverPort } from "./helpers.js"

let primary: TestServer
let standby: TestServer

beforeAll(async () => {
  primary = await startServer()
  standby = await startStandby(primary)
}, 180_000)
afterAll(async () => {
  await Promise.all([primary?.dispose(), standby?.dispose()])
}, 60_000)

/** The pool over these servers (the shared helper takes ports). */
const over = (servers: ReadonlyArray<TestServer>, options: Record<string, unknown>) =>
  poolOver(servers.map((s) => s.port), { acquireTimeout: "30 seconds", ...options })

describe("PgPool with a real standby", () => {
  it.live("routes by recovery state: standby / read-only / prefer-standby to the standby, primary / read-write to the primary", () =>
    Effect.gen(function*() {
      const land = (servers: ReadonlyArray<TestServer>, targetSessionAttrs: string) =>
        Effect.provide(serverPort, over(servers, { targetSessionAttrs }))
      expect(yield* land([primary, standby], "standby")).toBe(standby.port)
      expect(yield* land([primary, standby], "read-only")).toBe(standby.port)
      expect(yield* land([primary, standby], "prefer-standby")).toBe(standby.port)
      expect(yield* land([standby, primary], "primary")).toBe(primary.port)
      expect(yield* land([standby, primary], "read-write")).toBe(primary.port)
      // a write sent to the standby is that statement's typed error
      const exit = yield* Effect.exit(
        Effect.provide(
          Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            return yield* sql`CREATE TABLE never (x int)`
          }),
          over([standby], { targetSessionAttrs: "any" })
        )
      )
      expect(exit._tag).toBe("Failure")
      if (exit._tag === "Failure") {
        const reason = exit.cause.reasons[0]
        expect(PgPool.isReadOnlyError(reason?._tag === "Fail" ? reason.error : undefined)).toBe(true)
      }
    }), 90_000)

  it.live("a switchover under load: writes move to the promoted standby, every committed row present exactly once", () =>
    Effect.gen(function*() {
      const t = `sw_${process.pid}`
      yield* on(primary, (c) => c.query(`CREATE TABLE ${t} (id int PRIMARY KEY)`))
      // a planned switchover loses nothing once the standby streams (the primary's shutdown sends
      // its walsender everything up to its last checkpoint): wait for the stream and the table
      yield* eventually(
        "the standby streams",
        on(primary, (c) => Effect.map(c.query("SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'"), (r) => r.rows[0]!.n === 1)),
        30_000
      )
      yield* eventually(
        "the table reached the standby",
        on(standby, (c) => Effect.map(c.query("SELECT to_regclass($1) IS NOT NULL AS ok", [t]), (r) => r.rows[0]!.ok === true)),
        30_000
      )
      const N = 400
      let done = 0
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // idempotent client ids: a retry of a write whose commit was not confirmed cannot add it twice
        const write = (id: number) =>
          sql`INSERT INTO ${sql(t)} VALUES (${id}) ON CONFLICT DO NOTHING`.pipe(
            Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400 }),
            Effect.tap(() => Effect.sync(() => done++))
          )
        const load = yield* Effect.forkChild(Effect.all(Array.from({ length: N }, (_, id) => write(id)), { concurrency: 8, discard: true }))
        yield* eventually("writes under way", () => done >= N / 4, 30_000)
        yield* Effect.promise(() => switchover(primary, standby))
        yield* Fiber.join(load)
        // the last writes went to the promoted standby
        expect(yield* serverPort).toBe(standby.port)
      }).pipe(Effect.provide(over([primary, standby], { targetSessionAttrs: "read-write", max: 4 })))
      const ids = yield* on(standby, (c) => Effect.map(c.query(`SELECT id FROM ${t} ORDER BY id`), (r) => r.rows.map((row) => row.id as number)))
      expect(ids).toEqual(Array.from({ length: N }, (_, id) => id))
    }), 120_000)
})
