/**
 * The `SqlClient` / `PgClient` over the pool, built with Effect 4's public `SqlClient.make` and
 * @effect/sql-pg 4's `makeCompiler`. Statements borrow a connection for one effect (the pool's
 * fast path, or — with `multiplex` — a seat on a connection shared by up to
 * `multiplexConcurrency` statements, pipelined by the driver); transactions, `reserve`, streams
 * and `listen` hold one connection exclusively for their scope.
 *
 * @internal
 */
import { Pool } from "@effect-pool/core"
import { PgClient, type PgConnection } from "@effect/sql-pg"
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Queue from "effect/Queue"
import type * as Reactivity from "effect/reactivity/Reactivity"
import type * as Scope from "effect/Scope"
import * as Client from "effect/sql/SqlClient"
import type { Borrower, Connection } from "effect/sql/SqlConnection"
import { ConnectionError, isSqlError, SqlError, StatementTimeoutError, UnknownError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import * as Stream from "effect/Stream"
import { type PooledConnection, withServerReason } from "./connection.js"
import type { Settings } from "./options.js"
import { channelProblem } from "@effect-pool/engine/pg/channel"
import { messageOfThrown } from "@effect-pool/engine/options"

type Rows = <A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>

export interface ClientOptions {
  readonly transformQueryNames?: ((name: string) => string) | undefined
  readonly transformResultNames?: ((name: string) => string) | undefined
  readonly transformJson?: boolean | undefined
  readonly spanAttributes?: Record<string, unknown> | undefined
}

/**
 * Pool errors (timeout naming its cause, closed, queue full) as `SqlError`s: a `ConnectionError`
 * reason whose cause is the pool's error (itself carrying the last connection failure).
 */
export const asSqlError = (error: unknown): SqlError => {
  if (isSqlError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new SqlError({
    reason: new ConnectionError({ cause: error, message: `PgPool: ${message}`, operation: "acquire" })
  })
}

const mapBorrowError = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, Pool.BorrowError> | SqlError, R> =>
  Effect.mapError(effect, (error: E): Exclude<E, Pool.BorrowError> | SqlError =>
    typeof error === "object" && error !== null && "_tag" in error &&
      (error._tag === "PoolTimeoutError" || error._tag === "PoolClosedError" || error._tag === "PoolQueueFullError")
      ? asSqlError(error)
      : error as Exclude<E, Pool.BorrowError>)

/**
 * A user's `transformResultNames` that throws fails its statement with a `SqlError` (the
 * statement ran; its connection goes back) instead of a defect.
 */
const transformed = (transform: Rows) => <A extends object>(rows: ReadonlyArray<A>): Effect.Effect<ReadonlyArray<A>, SqlError> => {
  try {
    return Effect.succeed(transform(rows))
  } catch (thrown) {
    return Effect.fail(
      new SqlError({
        reason: new UnknownError({
          cause: thrown,
          message: `transformResultNames threw: ${messageOfThrown(thrown)}`,
          operation: "transformRows"
        })
      })
    )
  }
}

/** One `Connection` over a driver session (the pooled one, or a pinned view of it). */
class SessionConnection implements Connection {
  constructor(
    readonly pooled: PooledConnection,
    readonly pg: PgConnection.PgConnection,
    private readonly bound: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  ) {}
  execute(sql: string, params: ReadonlyArray<unknown>, transformRows: Rows | undefined) {
    const rows = Effect.map(this.pg.query(sql, params), (result) => result.rows)
    return this.bound(transformRows === undefined ? rows : Effect.flatMap(rows, transformed(transformRows)))
  }
  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return this.bound(this.pg.query(sql, params))
  }
  executeWithoutTransform(sql: string, params: ReadonlyArray<unknown>) {
    return this.bound(Effect.map(this.pg.query(sql, params), (result) => result.rows))
  }
  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return this.bound(this.pg.queryValues(sql, params))
  }
  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    return this.bound(this.pg.queryValues(sql, params, false))
  }
  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: Rows | undefined) {
    const rows = Effect.map(this.pg.query(sql, params, false), (result) => result.rows)
    return this.bound(transformRows === undefined ? rows : Effect.flatMap(rows, transformed(transformRows)))
  }
  executeStream(sql: string, params: ReadonlyArray<unknown>, transformRows: Rows | undefined) {
    const stream = this.pg.stream(sql, params)
    if (transformRows === undefined) return stream
    // a transform that throws is this stream's SqlError, as for a statement (not a defect)
    const transform = transformed(transformRows)
    return Stream.mapArrayEffect(stream, (rows) =>
      transform(rows) as Effect.Effect<Arr.NonEmptyReadonlyArray<PgConnection.Row>, SqlError>
    )
  }
}

/** PostgreSQL answers `COMMIT` of an aborted transaction with `ROLLBACK`: that is a failure. */
const commit = (conn: Connection): Effect.Effect<void, SqlError> =>
  Effect.flatMap(conn.executeRaw("COMMIT", []) as Effect.Effect<PgConnection.Result, SqlError>, (result) =>
    result.command === "ROLLBACK"
      ? Effect.fail(
        new SqlError({
          reason: new UnknownError({
            cause: new Error("COMMIT rolled back an aborted transaction"),
            message: "PgClient: COMMIT rolled back an aborted transaction",
            operation: "commit"
          })
        })
      )
      : Effect.void)

/** A connection shared by statements on a multiplexed pool (one core borrow, many riders). */
interface Seat {
  riders: number
  /** When it was handed its connection (`performance.now()`): it admits riders for one turn. */
  since: number
  conn: PooledConnection | undefined
  borrow: Pool.Borrow<PooledConnection> | undefined
  /** The borrow's failure, when it failed (a closed pool, a timeout). */
  failure: SqlError | undefined
  /** Made by the first rider that has to wait for the borrow (none when it was handed at once). */
  ready: Deferred.Deferred<Seat, SqlError> | undefined
}

const argumentError = (message: string, operation: string): SqlError =>
  new SqlError({ reason: new UnknownError({ cause: new TypeError(message), message, operation }) })

/** A channel checked before anything is borrowed or sent (the engine's rules, as the Effect 3 edition's). */
const channelError = (channel: unknown, operation: string): SqlError | undefined => {
  const problem = channelProblem(channel)
  return problem === undefined ? undefined : argumentError(`channel ${problem}`, operation)
}

export const makeClient = (
  pool: Pool.Pool<PooledConnection, SqlError>,
  settings: Settings,
  options: ClientOptions
): Effect.Effect<PgClient.PgClient, never, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const compiler = PgClient.makeCompiler(options.transformQueryNames, options.transformJson)
    const transformRows = options.transformResultNames
      ? Statement.defaultTransforms(options.transformResultNames, options.transformJson).array
      : undefined

    /** Client-side statement timeout (PgBouncer mode): the interruption sends a cancel request. */
    const timeout = settings.clientStatementTimeout
    const bound: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError> = timeout === undefined
      ? (effect) => effect
      : (effect) =>
        Effect.timeoutOrElse(effect, {
          duration: Duration.millis(timeout),
          orElse: () =>
            Effect.fail(
              new SqlError({
                reason: new StatementTimeoutError({
                  cause: new Error("statement timeout"),
                  message: `PgPool: statement timed out after ${timeout} ms`,
                  operation: "query"
                })
              })
            )
        })

    /** Per session: the statement timeout, and the server's reason when it ended the session. */
    const boundFor = (conn: PooledConnection) => <A>(effect: Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
      bound(Effect.mapError(effect, (error) => withServerReason(conn, error)))

    // one Connection per pooled session, made once: for one-statement borrows (whose borrower
    // maps the error once, below) and for leases (transactions, reserve, streams)
    const perStatement = new WeakMap<PooledConnection, Connection>()
    const wrapStatement = (conn: PooledConnection): Connection => {
      let wrapper = perStatement.get(conn)
      if (wrapper === undefined) {
        wrapper = new SessionConnection(conn, conn.pg, bound)
        perStatement.set(conn, wrapper)
      }
      return wrapper
    }
    const leased = new WeakMap<PooledConnection, Connection>()
    const wrap = (conn: PooledConnection): Connection => {
      let wrapper = leased.get(conn)
      if (wrapper === undefined) {
        wrapper = new SessionConnection(conn, conn.pg, boundFor(conn))
        leased.set(conn, wrapper)
      }
      return wrapper
    }
    /** A statement's failure: pool errors as SqlErrors, a session the server ended with its reason. */
    const statementError = (error: unknown, conn: PooledConnection | undefined): unknown => {
      if (typeof error === "object" && error !== null && "_tag" in error) {
        if (error._tag === "PoolTimeoutError" || error._tag === "PoolClosedError" || error._tag === "PoolQueueFullError") {
          return asSqlError(error)
        }
        if (conn !== undefined && isSqlError(error)) return withServerReason(conn, error)
      }
      return error
    }

    /**
     * An exclusive lease for a scope (transactions, `reserve`, streams, `listen`). On a
     * multiplexed pool the session is pinned too, so that its statements take the driver's
     * exclusive path (interruptible with a cancel request) rather than the pipeline.
     */
    const exclusive: Effect.Effect<readonly [PooledConnection, PgConnection.PgConnection], SqlError, Scope.Scope> =
      settings.multiplex
        ? Effect.flatMap(mapBorrowError(Pool.get(pool)), (conn) => Effect.map(conn.pg.pin, (pinned) => [conn, pinned] as const))
        : Effect.map(mapBorrowError(Pool.get(pool)), (conn) => [conn, conn.pg] as const)
    const acquirer: Effect.Effect<Connection, SqlError, Scope.Scope> = settings.multiplex
      ? Effect.map(exclusive, ([conn, pinned]) => new SessionConnection(conn, pinned, boundFor(conn)))
      : Effect.map(mapBorrowError(Pool.get(pool)), wrap)

    /** One statement, one exclusive borrow, no scope: the pool's fast path. */
    const exclusiveBorrower: Borrower = <A, E, R>(f: (connection: Connection) => Effect.Effect<A, E, R>) => {
      let used: PooledConnection | undefined
      return Effect.mapError(
        Pool.use(pool, (conn) => {
          used = conn
          return f(wrapStatement(conn))
        }),
        (error) => statementError(error, used) as E | SqlError
      )
    }

    /**
     * One statement on a seat of a shared connection. A seat is one core borrow shared by up to
     * `multiplexConcurrency` statements; it goes back to the pool when its last rider leaves, so
     * idle validation, recycling and lifetimes apply to shared connections as to the others, and
     * an exclusive lease (a transaction) never lands on a connection others are pipelining on.
     */
    const capacity = settings.multiplexConcurrency
    /**
     * Under steady load a seat would never empty, so its connection would never go back to the
     * pool (no lifetime, no recycling, a "leak"). A seat takes new riders for one turn only; then
     * new statements open another seat and the old one goes back once its riders are done.
     */
    const SEAT_TURN_MS = 1_000
    const seats: Array<Seat> = []
    let pending: Seat | undefined
    const leave = (seat: Seat): void => {
      seat.riders--
      if (seat.riders > 0) return
      if (seat.conn !== undefined) {
        const index = seats.indexOf(seat)
        if (index >= 0) seats.splice(index, 1)
        // a retired seat (out of `seats`) goes back with its last rider too
        seat.borrow!.return()
      } else if (seat.borrow !== undefined && seat.borrow.state === "waiting") {
        if (pending === seat) pending = undefined
        seat.borrow.cancel()
      }
    }
    const retireSeat = (seat: Seat): void => {
      const index = seats.indexOf(seat)
      if (index >= 0) seats.splice(index, 1)
      if (seat.riders === 0) seat.borrow!.return()
    }
    const take = (): Seat => {
      const now = performance.now()
      for (let i = 0; i < seats.length; i++) {
        const seat = seats[i]!
        if (now - seat.since > SEAT_TURN_MS || seat.conn!.dead() !== undefined) {
          retireSeat(seat)
          i--
          continue
        }
        if (seat.riders < capacity) {
          seat.riders++
          return seat
        }
      }
      if (pending !== undefined && pending.riders < capacity) {
        pending.riders++
        return pending
      }
      const seat: Seat = { riders: 1, since: 0, conn: undefined, borrow: undefined, failure: undefined, ready: undefined }
      pending = seat
      // the callback runs at once when an item is idle (the common case at low concurrency):
      // then no rider waits and no Deferred is made
      seat.borrow = Pool.unsafeBorrow(pool, (held, failure) => {
        if (pending === seat) pending = undefined
        if (held === undefined) {
          seat.failure = asSqlError(Cause.squash(failure!))
          if (seat.ready !== undefined) Deferred.doneUnsafe(seat.ready, Effect.fail(seat.failure))
          return
        }
        if (seat.riders === 0) return held.return()
        seat.conn = held.value
        seat.borrow = held
        seat.since = performance.now()
        seats.push(seat)
        if (seat.ready !== undefined) Deferred.doneUnsafe(seat.ready, Effect.succeed(seat))
      })
      return seat
    }
    // `uninterruptibleMask` calls its function when the effect runs: no `suspend` needed
    const sharedBorrower: Borrower = (f) =>
      Effect.uninterruptibleMask((restore) => {
        const seat = take()
        // the rider leaves on any exit: a plain call, no finalizer effect
        const run = (ready: Seat) =>
          Effect.onExitPrimitive(
            Effect.mapError(restore(f(wrapStatement(ready.conn!))), (error) => statementError(error, ready.conn) as typeof error),
            () => {
              leave(ready)
              return undefined
            }
          )
        if (seat.conn !== undefined) return run(seat)
        if (seat.failure !== undefined) {
          leave(seat)
          return Effect.fail(seat.failure)
        }
        return Effect.flatMap(
          Effect.onExitPrimitive(restore(Deferred.await(seat.ready ??= Deferred.makeUnsafe())), (exit) => {
            if (exit._tag !== "Success") leave(seat)
            return undefined
          }),
          run
        )
      })

    const borrower = settings.multiplex ? sharedBorrower : exclusiveBorrower
    const reported = settings.reported as PgClient.PgClientConfig
    const firstHost = settings.target?.hosts[0]

    const client = yield* Client.make({
      acquirer,
      borrower,
      transactionAcquirer: acquirer,
      compiler,
      driver: "pg",
      prepareTransactionControls: !settings.pgbouncer,
      commit,
      // a session that died mid-transaction has had it aborted by the server: no ROLLBACK to
      // send (Effect's SqlClient makes a failed ROLLBACK a defect); the statement's own error stands
      isTransaction: (conn) => {
        const pooled = (conn as SessionConnection).pooled
        return pooled === undefined || (pooled.dead() === undefined && pooled.txStatus() !== "I")
      },
      releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
      spanAttributes: [
        ...(options.spanAttributes ? Object.entries(options.spanAttributes) : []),
        ["db.system.name", "postgresql"],
        ["db.namespace", (reported.database ?? reported.username ?? "postgres") as string],
        // several hosts: the first (each connection may be on another; per-host figures are in stats)
        ["server.address", (firstHost?.host ?? reported.host ?? "localhost") as string],
        ["server.port", (firstHost?.port ?? reported.port ?? 5432) as number]
      ],
      transformRows
    })

    const PgJson = Statement.custom<PgClient.PgCustom>("PgJson")
    const listen = (channel: string): Effect.Effect<Queue.Dequeue<PgConnection.Notification, SqlError>, SqlError, Scope.Scope> => {
      const bad = channelError(channel, "listen")
      return bad !== undefined ? Effect.fail(bad) : Effect.flatMap(exclusive, ([, pg]) => pg.listen(channel))
    }
    const notify = (channel: string, payload: string): Effect.Effect<void, SqlError> => {
      const bad = channelError(channel, "notify") ?? (typeof payload === "string" ? undefined : argumentError(`payload must be a string, got ${typeof payload}`, "notify"))
      return bad !== undefined
        ? Effect.fail(bad)
        : borrower((conn) => Effect.asVoid(conn.executeRaw("SELECT pg_notify($1, $2)", [channel, payload])))
    }
    return Object.assign(client, {
      [PgClient.TypeId]: PgClient.TypeId,
      config: reported,
      json: (value: unknown) => Statement.fragment([PgJson(value, undefined, undefined)]),
      listen,
      notify
    }) as PgClient.PgClient
  })
