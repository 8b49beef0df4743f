import { PgPool } from "@effect-pool/pg"
import { SqlClient } from "@effect/sql"
import { Effect, Redacted } from "effect"
import pg from "pg"
import { inject } from "vitest"

export const pgUrl = () => inject("pgUrl")

/** The pool layer on the test server. */
export const poolLayer = (options: Partial<PgPool.Options> = {}) =>
  PgPool.layer({
    url: Redacted.make(pgUrl()),
    // named pools show up under their name in pg_stat_activity
    ...(options.name === undefined ? {} : { applicationName: options.name }),
    ...options
  })

/** A raw client outside the pool, to look at the server from the side (pg_stat_activity…). */
export const admin = <A>(f: (client: pg.Client) => Promise<A>): Effect.Effect<A> =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: pgUrl(), application_name: "test-admin" })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

/** Connections the pool named `name` has open, as the server sees them. */
export const serverConnections = (applicationName: string) =>
  admin(async (c) =>
    Number((await c.query("select count(*)::int as n from pg_stat_activity where application_name = $1", [applicationName])).rows[0].n)
  )

/** The server process ids of the connections the pool named `name` has open. */
export const serverPids = (applicationName: string) =>
  admin(async (c) =>
    (await c.query("select pid from pg_stat_activity where application_name = $1 order by pid", [applicationName])).rows
      .map((r) => r.pid as number)
  )

let tables = 0
/** A fresh table name per test. */
export const table = () => `t_${process.pid}_${Date.now()}_${tables++}`

export const sql = SqlClient.SqlClient

export { causeText, eventually } from "@effect-pool/testing"
