/**
 * What @effect/sql-pg 4's own `PgClient.layer` does in the two cases our pool exists to fix
 * (the anchors note): a connection handed back mid-transaction goes to the next borrower as it
 * is, and an exhausted pool makes a borrower wait forever. These tests pin their behaviour down,
 * so that the README's "differences" stay true for the version we depend on.
 */
import { describe, expect, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Deferred, Effect, Fiber, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { pgUrl } from "./helpers.js"

const theirs = (maxConnections: number) => PgClient.layer({ url: Redacted.make(pgUrl()), maxConnections })

describe("@effect/sql-pg 4's PgClient.layer (the peer)", () => {
  it.live("hands a connection with a stray BEGIN to the next borrower", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // autocommit off by hand: the statement ends, its connection goes back inside a transaction
      yield* sql`BEGIN`.unprepared
      // SAVEPOINT only works inside a transaction block: the next borrower is inside one
      const probe = yield* Effect.exit(sql`SAVEPOINT probe`.unprepared)
      expect(probe._tag).toBe("Success")
    }).pipe(Effect.provide(theirs(1))))

  it.live("an exhausted pool makes the next borrower wait with no end (no acquire timeout)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const holding = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(sql.withTransaction(Effect.andThen(Deferred.succeed(holding, undefined), Effect.never)))
      yield* Deferred.await(holding)
      const waiter = yield* Effect.forkChild(sql`SELECT 1`)
      // still waiting after 2 s (our pool fails at acquireTimeout naming the cause)
      const after = yield* Fiber.await(waiter).pipe(Effect.timeoutOption("2 seconds"))
      expect(after._tag).toBe("None")
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(holder)
    }).pipe(Effect.provide(theirs(1))))
})
