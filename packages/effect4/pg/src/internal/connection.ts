/**
 * One pooled Postgres session: @effect/sql-pg 4's own `PgConnection` (its wire driver, its
 * pipelining, its protocol cancel on interruption) and what the pool needs to know about it —
 * whether it is dead, the transaction status of its last `ReadyForQuery`, and a hook to the
 * pool's item (a session that dies idle is evicted at once; a server-wide termination evicts its
 * idle siblings).
 *
 * @internal
 */
import { PgConnection } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { ConnectionError, SqlError, UnknownError } from "effect/sql/SqlError"
import { stateQuery } from "@effect-pool/engine/pg/hosts"
import { sqlState } from "./options.js"

/** What the pool holds: the driver's session plus our bookkeeping. */
export interface PooledConnection {
  readonly pg: PgConnection.PgConnection
  readonly pid: number
  /** `ReadyForQuery`'s status after the last statement: idle, in a transaction, failed one. */
  readonly txStatus: () => "I" | "T" | "E"
  /** The driver's reason for giving the session up (dead socket, fatal error, unconfirmed cancel). */
  readonly dead: () => SqlError | undefined
  /** The server's FATAL/PANIC error that ended the session, if it sent one (the driver reports "Connection closed"). */
  readonly serverFatal: () => Error | undefined
  /**
   * Multi-host pools only: told of every statement error on this session (a 25006 read-only
   * violation means its server no longer takes writes). `undefined` on the single-host path.
   */
  onError?: ((error: SqlError) => void) | undefined
  /**
   * Multi-host pools only: given the row of the engine's `stateQuery` (the session's state, asked
   * again), why its server no longer matches `targetSessionAttrs`, else `undefined`.
   */
  mismatch?: ((row: unknown) => string | undefined) | undefined
}

/** Multi-host pools: the server-reported parameters a session watches after its start. */
export type ParameterWatch = (name: string, value: string) => void

/** The item hooks a connection reports to (core's `ItemHandle`, as far as this module needs). */
export interface ItemHooks {
  invalidate(): void
  evictIdle(): void
}

/** Keys of the driver's session object that are not in its public type (pinned to ~4.0.5). */
const internalsKey = "~@effect/sql-pg/PgConnection/internals"
interface DriverInternals {
  readonly deadError: () => SqlError | undefined
  readonly retireHooks: Set<() => void>
}
interface DriverSession {
  dispatch: (message: { readonly _tag: string; readonly status?: string; readonly fields?: Record<string, unknown> }) => void
  readonly [internalsKey]: DriverInternals
}

/**
 * Did the server end this session as part of ending many: shutdown (57P01, also sent by
 * `pg_terminate_backend`), crash recovery (57P02), not accepting connections (57P03), database
 * dropped (57P04)? Then the pool's other idle connections are most likely gone too.
 */
export const isServerTermination = (error: unknown): boolean => {
  const code = sqlState(error)
  return code === "57P01" || code === "57P02" || code === "57P03" || code === "57P04"
}

/**
 * Opens a session in the current scope (closed with it) and ties it to its pool item. Fails
 * with the driver's `SqlError` (its `ConnectionError` / `AuthenticationError` …).
 */
export const open = (
  config: PgConnection.Config,
  item: ItemHooks | undefined,
  watch?: ParameterWatch
): Effect.Effect<PooledConnection, SqlError, Scope.Scope> =>
  Effect.map(PgConnection.make(config), (pg) => {
    const session = pg as unknown as DriverSession
    const internals = session[internalsKey]
    let status: "I" | "T" | "E" = "I"
    let serverFatal: Error | undefined
    // the driver keeps no transaction status: ours is read off each ReadyForQuery on its way in;
    // and a FATAL that arrives mid-statement is kept (the driver then reports only "Connection closed")
    const dispatch = session.dispatch
    if (typeof dispatch === "function" && watch !== undefined) {
      // multi-host: a server whose state changes (promoted, made read-only) reports it as
      // ParameterStatus (in_hot_standby, default_transaction_read_only) before a ReadyForQuery
      session.dispatch = (message) => {
        if (message._tag === "ReadyForQuery") status = message.status as "I" | "T" | "E"
        else if (message._tag === "ParameterStatus") {
          const parameter = message as unknown as { readonly name: string; readonly value: string }
          watch(parameter.name, parameter.value)
        } else if (message._tag === "ErrorResponse" && message.fields !== undefined) {
          const severity = message.fields.severity
          if (severity === "FATAL" || severity === "PANIC") {
            serverFatal = Object.assign(new Error(String(message.fields.message ?? "the server ended the session")), message.fields)
          }
        }
        dispatch(message)
      }
    } else if (typeof dispatch === "function") {
      session.dispatch = (message) => {
        if (message._tag === "ReadyForQuery") status = message.status as "I" | "T" | "E"
        else if (message._tag === "ErrorResponse" && message.fields !== undefined) {
          const severity = message.fields.severity
          if (severity === "FATAL" || severity === "PANIC") {
            serverFatal = Object.assign(new Error(String(message.fields.message ?? "the server ended the session")), message.fields)
          }
        }
        dispatch(message)
      }
    }
    if (item !== undefined) {
      // a session that dies (idle socket reset, FATAL, a cancel not confirmed) is not lent again;
      // when the server ended it as part of ending many, the idle siblings go with it
      internals.retireHooks.add(() => {
        item.invalidate()
        if (isServerTermination(serverFatal) || isServerTermination(internals.deadError())) item.evictIdle()
      })
    }
    return {
      pg,
      pid: pg.processId,
      txStatus: () => status,
      dead: internals.deadError,
      serverFatal: () => serverFatal
    }
  })

/** `SELECT 1`, failing when the session is dead (validation after idle, health checks). */
export const validate = (conn: PooledConnection): Effect.Effect<void, SqlError> => {
  const dead = conn.dead()
  if (dead !== undefined) return Effect.fail(dead)
  const ping = Effect.asVoid(conn.pg.query("SELECT 1", [], false))
  const mismatch = conn.mismatch
  if (mismatch === undefined) return ping
  // multi-host: the state asked, in the ping's one round trip — a server ≥ 14 reports a change
  // (reload, promotion) on the statement after it, one before 14 never does
  return Effect.flatMap(conn.pg.query(stateQuery, [], false), (result) => {
    const why = mismatch(result.rows[0])
    return why === undefined ? Effect.void : Effect.fail(
      new SqlError({
        reason: new ConnectionError({
          cause: new Error(why),
          message: `PgPool: ${why}`,
          operation: "validate"
        })
      })
    )
  })
}

/**
 * A returned session fit to lend again: dead → fail (destroyed); left inside a transaction (a
 * stray `BEGIN`, an interrupted borrower) → `ROLLBACK`, destroyed if that fails. `undefined` in
 * the common case of an idle, healthy session, so a return costs no effect at all.
 */
export const recycle = (conn: PooledConnection): Effect.Effect<void, SqlError> | undefined => {
  const dead = conn.dead()
  if (dead !== undefined) return Effect.fail(dead)
  if (conn.txStatus() === "I") return undefined
  return Effect.flatMap(conn.pg.query("ROLLBACK", [], false), () =>
    conn.txStatus() === "I" ? Effect.void : Effect.fail(
      new SqlError({
        reason: new UnknownError({
          cause: new Error(`still in transaction (${conn.txStatus()}) after ROLLBACK`),
          message: "PgPool: a returned connection could not be rolled back",
          operation: "rollback"
        })
      })
    ))
}

/**
 * The driver reports a session the server ended mid-statement as "Connection closed" (or a
 * socket reset); when the server said why (57P01 `pg_terminate_backend`, a shutdown …), the
 * error carries that instead: errors name the real cause.
 */
export const withServerReason = (conn: PooledConnection, error: SqlError): SqlError => {
  conn.onError?.(error)
  const fatal = conn.serverFatal()
  if (fatal === undefined || error.reason._tag !== "ConnectionError") return error
  return new SqlError({
    reason: new ConnectionError({
      cause: fatal,
      message: `PgConnection: the server ended the session: ${fatal.message}`,
      operation: error.reason.operation ?? "query"
    })
  })
}
