import { PgPool } from "@effect-pool/pg"
import { PgConnection } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
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
