/**
 * The `SqlClient` / `PgClient` on top of the pool, built with @effect/sql's public
 * `SqlClient.make` and @effect/sql-pg's `makeCompiler`. Outside a transaction each statement
 * borrows a connection with `Pool.use` (the pool's fast path); a transaction, `reserve` and a
 * stream hold one connection for their whole scope.
 *
 * @internal
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Pool } from "@effect-pool/core"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type Pg from "pg"
import Cursor from "pg-cursor"
import {
  cancelRequest,
  markBroken,
  type PgConnection,
  query,
  type QueryConfig,
  type Running,
  start,
  toSqlError
} from "./connection.js"
import type { Listener } from "./listener.js"
import type { ConnectionSettings } from "./options.js"
import { channelProblem } from "@effect-pool/engine/pg/channel"
import { messageOfThrown } from "@effect-pool/engine/options"
import { makePreparedStatements, staleStatement } from "./prepared.js"

type Rows = <A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>

export interface ClientOptions {
  readonly transformQueryNames?: ((name: string) => string) | undefined
  readonly transformResultNames?: ((name: string) => string) | undefined
  readonly transformJson?: boolean | undefined
  readonly spanAttributes?: Record<string, unknown> | undefined
}

/** Pool errors (timeout with its cause, closed, queue full) surface as `SqlError`s naming them. */
const asSqlError = (error: unknown): SqlError =>
  error instanceof SqlError
    ? error
    : new SqlError({ cause: error, message: error instanceof Error ? error.message : String(error) })

/** A user callback of ours (result transform) threw while shaping rows. */
const transformError = (thrown: unknown): SqlError =>
  new SqlError({
    cause: thrown,
    message: `transformResultNames threw: ${messageOfThrown(thrown)}`
  })

/** A per-call string argument (channel, payload) checked before anything is borrowed. */
const stringArgument = (what: string, value: unknown): SqlError | undefined =>
  typeof value === "string"
    ? undefined
    : new SqlError({ cause: new TypeError(`${what} must be a string`), message: `${what} must be a string, got ${typeof value}` })

/**
 * A channel checked before anything is sent (the engine's rules): a NUL would end the LISTEN
 * session every listener shares, a name past 63 bytes be truncated by LISTEN and refused by NOTIFY.
 */
const channelArgument = (what: string, channel: unknown): SqlError | undefined => {
  const problem = channelProblem(channel)
  return problem === undefined
    ? undefined
    : new SqlError({ cause: new TypeError(`${what}: channel ${problem}`), message: `${what}: channel ${problem}` })
}

const CURSOR_BATCH = 128
/** Connections found broken on hand-over, or refusing a stale statement, before one runs it. */
const NOT_SENT_RETRIES = 4
const ROLLBACK = /^\s*ROLLBACK\b/i

export const makeClient = (
  pool: Pool.Pool<PgConnection, SqlError>,
  settings: ConnectionSettings,
  listener: Listener,
  options: ClientOptions
): Effect.Effect<PgClient.PgClient, never, Reactivity.Reactivity> =>
  Effect.gen(function*() {
    /**
     * A `transformQueryNames` that throws runs inside @effect/sql's statement compiler, where a
     * throw is a defect. So it never throws there: its error is kept under a marker returned as
     * the name, and the statement carrying the marker (in its text, or a JSON parameter's keys)
     * fails with a `SqlError` before anything is borrowed or sent.
     */
    const thrownByTransform = new Map<string, unknown>()
    const marker = `effect-pool:transformQueryNames-threw:${Math.random().toString(36).slice(2)}:`
    let thrownCount = 0
    const userTransform = options.transformQueryNames
    const transformQueryNames = userTransform === undefined ? undefined : (name: string): string => {
      try {
        return userTransform(name)
      } catch (thrown) {
        const key = `${marker}${thrownCount++}#`
        thrownByTransform.set(key, thrown)
        // a statement compiled and never run (toJSON) leaves its entry: keep only the latest
        if (thrownByTransform.size > 64) thrownByTransform.delete(thrownByTransform.keys().next().value!)
        return key
      }
    }
    const transformFailure = (sql: string, params: ReadonlyArray<unknown>): SqlError | undefined => {
      if (thrownByTransform.size === 0) return undefined
      let text = sql
      if (!sql.includes(marker)) {
        try {
          text = JSON.stringify(params) ?? ""
        } catch {
          text = ""
        }
      }
      let found: { error: unknown } | undefined
      for (const [key, error] of thrownByTransform) {
        if (!text.includes(key)) continue
        found ??= { error }
        thrownByTransform.delete(key)
      }
      if (found === undefined) return undefined
      const error = found.error
      return new SqlError({
        cause: error,
        message: `transformQueryNames threw: ${error instanceof Error ? error.message : String(error)}`
      })
    }
    const compiler = PgClient.makeCompiler(transformQueryNames, options.transformJson)
    const transformRows = options.transformResultNames
      ? Statement.defaultTransforms(options.transformResultNames, options.transformJson).array
      : undefined
    const timeout = settings.clientStatementTimeout
    const prepared = makePreparedStatements(settings.prepareThreshold, settings.maxPreparedStatements)
    const named = (config: QueryConfig): QueryConfig => {
      const name = prepared.nameFor(config.text, config.values.length > 0)
      return name === config.name ? config : { ...config, name }
    }
    /**
     * A named statement the server no longer has as pg believes (see `staleStatement`): the
     * text gets a new name; a connection that lost it is evicted, as pg's bookkeeping is wrong.
     */
    const onStale = (conn: PgConnection, config: QueryConfig, error: Error): boolean => {
      if (config.name === undefined) return false
      const stale = staleStatement(error)
      if (stale === undefined) return false
      prepared.forget(config.text, config.name)
      if (stale === "missing") markBroken(conn, error)
      return true
    }

    /** Client-side statement timeout (PgBouncer mode); interruption sends a cancel request. */
    const bounded = <A>(effect: Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
      timeout === undefined ? effect : Effect.timeoutFail(effect, {
        duration: timeout,
        onTimeout: () => new SqlError({ cause: new Error("statement timeout"), message: `Statement timed out after ${timeout} ms` })
      })

    /**
     * One statement on a pooled connection, without a fiber hop: borrow, send and return are
     * callbacks, so a finishing statement hands its connection to the next waiter, whose
     * statement goes out in the same tick. A connection found broken when handed over (its
     * termination notice arrived after the hand-over) had nothing sent on it: the statement
     * takes another one.
     */
    const statement = <A>(config: QueryConfig, extract: (result: Pg.QueryResult) => A): Effect.Effect<A, SqlError> =>
      Effect.async<A, SqlError>((resume) => {
        let running: Running | undefined
        let sent = config
        let resent = false
        const borrow = Pool.unsafeBorrow(pool, (held, failure) => {
          running = undefined
          if (held === undefined) return resume(Effect.fail(asSqlError(Cause.squash(failure!))))
          const conn = held.value
          if (conn.broken !== undefined) {
            // broken after the hand-over (its termination notice came late): nothing was sent
            if (held.retry()) return
            held.return()
            return resume(Effect.fail(new SqlError({ cause: conn.broken, message: "every connection lent was broken" })))
          }
          running = start(conn, sent, (error, result) => {
            if (error !== undefined && !resent && onStale(conn, sent, error)) {
              // it failed at Bind: nothing ran; sent once more, under its new name (if any)
              resent = true
              sent = named(sent)
              if (held.retry()) return
            }
            // interrupted with a cancel request still on its way: the connection goes back once
            // the server has taken it (else it could cancel the next borrower's statement)
            const cancelling = running?.cancelling
            if (cancelling === undefined) held.return()
            else cancelling.push(() => held.return())
            if (error) return resume(Effect.fail(toSqlError(error)))
            let value: A
            try {
              value = extract(result)
            } catch (thrown) {
              // a user's transform (transformResultNames) threw: the statement ran, its
              // connection is back; the caller gets a typed error, not a defect
              return resume(Effect.fail(transformError(thrown)))
            }
            resume(Effect.succeed(value))
          })
        }, { retries: NOT_SENT_RETRIES })
        return Effect.suspend(() => {
          const sending = running
          if (borrow.state !== "held" || sending === undefined) {
            borrow.cancel() // still waiting: leaves no trace
            return Effect.void
          }
          // the query's own callback returns the connection once it has ended
          return Effect.ensuring(
            cancelRequest(borrow.value, sending, settings.cancel),
            Effect.sync(() => {
              if (!sending.finished) borrow.return() // broken by now: destroyed on return
            })
          )
        })
      })

    const rowsOf = (result: Pg.QueryResult | Array<Pg.QueryResult>): ReadonlyArray<any> =>
      Array.isArray(result) ? result.map((r) => r.rows ?? []) : result.rows ?? []
    const valuesOf = (result: Pg.QueryResult): Array<Array<unknown>> => result.rows as Array<Array<unknown>>

    const cursorStream = (conn: PgConnection, made: Cursor, transform: Rows | undefined) =>
      Effect.gen(function*() {
        const cursor = conn.client.query(made)
        yield* Effect.addFinalizer(() => Effect.promise(() => cursor.close().catch(() => undefined)))
        const pull = Effect.async<Chunk.Chunk<any>, Option.Option<SqlError>>((resume) => {
          cursor.read(CURSOR_BATCH, (error, rows) => {
            if (error) resume(Effect.fail(Option.some(new SqlError({ cause: error, message: "Failed to execute statement" }))))
            else if (rows.length > 0) {
              let chunk: Chunk.Chunk<any>
              try {
                chunk = Chunk.unsafeFromArray(transform ? transform(rows) : rows)
              } catch (thrown) {
                return resume(Effect.fail(Option.some(transformError(thrown))))
              }
              resume(Effect.succeed(chunk))
            }
            else resume(Effect.fail(Option.none()))
          })
        })
        return Stream.repeatEffectChunkOption(pull)
      })

    /** A `Connection`: per statement on the pool, or bound to the connection a transaction holds. */
    class PooledConnection implements Connection {
      /** Runs a statement; `extract` takes what the caller needs from its result (no extra Effect step). */
      private readonly runQuery: <A>(config: QueryConfig, extract: (result: Pg.QueryResult) => A) => Effect.Effect<A, SqlError>
      constructor(
        private readonly streamConn: Effect.Effect<PgConnection, SqlError, Scope.Scope>,
        /** The connection a transaction holds, if this is one. */
        private readonly bound?: PgConnection
      ) {
        this.runQuery = bound === undefined
          ? (config, extract) => bounded(statement(config, extract))
          : (config, extract) =>
            bounded(Effect.tapError(Effect.map(query(bound, config, settings.cancel), extract), (error) =>
              // inside a transaction the failure stands (the transaction is aborted); the
              // statement's next run gets a new name
              Effect.sync(() => onStale(bound, config, error.cause as Error))))
      }
      private rows(config: QueryConfig, transform: Rows | undefined) {
        return this.runQuery(config, transform === undefined ? rowsOf : (result) => transform(rowsOf(result)))
      }
      execute(sql: string, params: ReadonlyArray<unknown>, transform: Rows | undefined) {
        const bad = transformFailure(sql, params)
        if (bad !== undefined) return Effect.fail(bad)
        return this.rows(named({ text: sql, values: params }), transform)
      }
      executeRaw(sql: string, params: ReadonlyArray<unknown>) {
        const bad = transformFailure(sql, params)
        if (bad !== undefined) return Effect.fail(bad)
        return this.runQuery(named({ text: sql, values: params }), identity)
      }
      executeWithoutTransform(sql: string, params: ReadonlyArray<unknown>) {
        return this.execute(sql, params, undefined)
      }
      executeValues(sql: string, params: ReadonlyArray<unknown>) {
        const bad = transformFailure(sql, params)
        if (bad !== undefined) return Effect.fail(bad)
        return this.runQuery(named({ text: sql, values: params, rowMode: "array" }), valuesOf)
      }
      executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transform: Rows | undefined) {
        const bad = transformFailure(sql, params)
        if (bad !== undefined) return Effect.fail(bad)
        const bound = this.bound
        // never a named statement: @effect/sql runs its transaction commands and migrations here
        const unnamed = this.rows({ text: sql, values: params }, transform)
        if (bound === undefined || !ROLLBACK.test(sql)) return unnamed
        // @effect/sql makes a failed ROLLBACK a defect. A session that died has already had its
        // transaction aborted by the server: that rollback happened, so it succeeds.
        return Effect.catchAll(unnamed, (error) =>
          bound.broken !== undefined ? Effect.succeed([]) : Effect.fail(error))
      }
      executeStream(sql: string, params: ReadonlyArray<unknown>, transform: Rows | undefined) {
        const bad = transformFailure(sql, params)
        if (bad !== undefined) return Stream.fail(bad)
        return Stream.suspend(() => {
          // a Cursor prepares its parameters when made (a toPostgres that throws, a cycle): made
          // before the borrow, so such a parameter is this stream's SqlError, no connection touched
          let made: Cursor
          try {
            made = new Cursor(sql, params as Array<unknown>)
          } catch (thrown) {
            return Stream.fail(new SqlError({ cause: thrown, message: `a parameter could not be encoded: ${messageOfThrown(thrown)}` }))
          }
          return Stream.unwrapScoped(Effect.flatMap(this.streamConn, (conn) => cursorStream(conn, made, transform)))
        })
      }
    }

    const borrow: Effect.Effect<PgConnection, SqlError, Scope.Scope> = Effect.mapError(Pool.get(pool), asSqlError)
    const perStatement = new PooledConnection(borrow)
    const reserve = Effect.map(borrow, (conn) => new PooledConnection(Effect.succeed(conn), conn))

    const client = yield* Client.make({
      acquirer: Effect.succeed(perStatement),
      transactionAcquirer: reserve,
      compiler,
      spanAttributes: [
        ...(options.spanAttributes ? Object.entries(options.spanAttributes) : []),
        ["db.system.name", "postgresql"],
        ["db.namespace", settings.reported.database ?? settings.reported.username ?? "postgres"],
        ["server.address", settings.reported.host ?? "localhost"],
        ["server.port", settings.reported.port ?? 5432]
      ],
      transformRows
    })

    return Object.assign(client, {
      [PgClient.TypeId]: PgClient.TypeId,
      config: settings.reported,
      json: (value: unknown) => Statement.custom<any>("PgJson")(value, undefined, undefined),
      listen: (channel: string) => {
        const bad = channelArgument("listen", channel)
        return bad === undefined ? listener.listen(channel) : Stream.fail(bad)
      },
      notify: (channel: string, payload: string) => {
        const bad = channelArgument("notify", channel) ?? stringArgument("notify: payload", payload)
        return bad === undefined
          ? Effect.asVoid(perStatement.execute("SELECT pg_notify($1, $2)", [channel, payload], undefined))
          : Effect.fail(bad)
      }
    }) as unknown as PgClient.PgClient
  })
