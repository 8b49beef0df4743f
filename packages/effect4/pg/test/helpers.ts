import { PgPool } from "@effect-pool/pg"
import { PgConnection } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"

export const pgUrl = (): string => inject("pgUrl")

/** A connection outside any pool, to look at the server from the side (pg_stat_activity …). */
export const admin = <A>(f: (conn: PgConnection.PgConnection) => Effect.Effect<A, unknown>): Effect.Effect<A> =>
  Effect.scoped(Effect.flatMap(
    PgConnection.make({ url: Redacted.make(pgUrl()), applicationName: "test-admin" }),
    f
  )).pipe(Effect.orDie)

/** Connections the pool with this application name has open, as the server sees them. */
export const serverConnections = (applicationName: string): Effect.Effect<number> =>
  admin((c) =>
    Effect.map(
      c.query("select count(*)::int as n from pg_stat_activity where application_name = $1", [applicationName]),
      (r) => Number(r.rows[0]!.n)
    )
  )

/** The server process ids of the connections with this application name. */
export const serverPids = (applicationName: string): Effect.Effect<Array<number>> =>
  admin((c) =>
    Effect.map(
      c.query("select pid from pg_stat_activity where application_name = $1 order by pid", [applicationName]),
      (r) => r.rows.map((row) => row.pid as number)
    )
  )

/** Terminates these backends (57P01 on their sessions). */
export const terminate = (pids: ReadonlyArray<number>): Effect.Effect<void> =>
  admin((c) => Effect.asVoid(c.query("select pg_terminate_backend(pid) from unnest($1::int[]) pid", [pids])))

let tables = 0
/** A fresh table name per test. */
export const table = (): string => `t_${process.pid}_${Date.now()}_${tables++}`

export { causeText, eventually } from "@effect-pool/testing-effect4"

/** The pool layer on the test server (named pools show up under their name in pg_stat_activity). */
export const poolLayer = (options: Partial<PgPool.Options> = {}) =>
  PgPool.layer({
    url: Redacted.make(pgUrl()),
    ...(options.name === undefined ? {} : { applicationName: options.name }),
    ...options
  })

/** A connection to one server (of several) from the side. */
export const onServer = <A>(server: { readonly url: string }, f: (conn: PgConnection.PgConnection) => Effect.Effect<A, unknown>): Effect.Effect<A> =>
  Effect.scoped(Effect.flatMap(PgConnection.make({ url: Redacted.make(server.url), applicationName: "test-admin" }), f)).pipe(
    Effect.orDie
  )

/**
 * A pool over the servers on these ports (127.0.0.1, in this order), as user postgres: the
 * several-host tests' pool (hosts.test, standby.test).
 */
export const poolOver = (ports: ReadonlyArray<number>, options: Record<string, unknown> = {}) =>
  PgPool.layer({
    username: "postgres",
    password: Redacted.make("postgres"),
    database: "postgres",
    host: ports.map(() => "127.0.0.1"),
    port: ports,
    acquireTimeout: "20 seconds",
    createTimeout: "10 seconds",
    ...options
  } as PgPool.Options)

/** The port of the server a statement ran on. */
export const serverPort = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ port: number }>`SELECT current_setting('port')::int AS port`
  return rows[0]!.port
})
