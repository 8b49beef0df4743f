/**
 * One pooled Postgres connection: a `pg.Client` and what the pool needs to know about it.
 * Connect, run a query (with a protocol cancel request when interrupted), check it on return,
 * close it.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import Pg from "pg"
import { needsRollback } from "@effect-pool/engine/pg/transaction"

/** A pooled connection. `broken` is set as soon as its socket errors or ends. */
export interface PgConnection {
  readonly client: Pg.Client
  /** The server process id of this connection (`pg_backend_pid()`). */
  readonly pid: number
  broken: Error | undefined
  /** Called when the connection breaks (the pool evicts it). */
  onBroken: ((conn: PgConnection) => void) | undefined
  /** The ParameterStatus values the server reported (at startup and since). */
  readonly parameters: Record<string, string>
  /** Called on every ParameterStatus after startup (e.g. `in_hot_standby` after a promotion). */
  onParameter: ((conn: PgConnection, name: string) => void) | undefined
  /** Called when a statement failed with 25006 (a write on a read-only server). */
  onReadOnly: ((conn: PgConnection) => void) | undefined
}

/** How long a cancelled query may take to end before its connection is given up. */
const CANCEL_GRACE_MS = 5_000
/** How long a graceful close may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000

const destroySocket = (client: Pg.Client): void => {
  ;(client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.()
}

/**
 * Does this query error leave the connection unusable? Only an error the server reports with
 * severity ERROR (a failed statement) keeps the session alive; FATAL/PANIC (e.g. the backend
 * was terminated), connection exceptions (class 08) and client-side socket errors do not.
 */
export const isFatal = (error: unknown): boolean => {
  const e = error as { severity?: unknown; code?: unknown }
  if (typeof e?.severity !== "string") return true
  if (e.severity === "FATAL" || e.severity === "PANIC") return true
  return typeof e.code === "string" && (e.code.startsWith("08") || e.code.startsWith("57P"))
}

/**
 * Did the server end this session as part of ending many: shutdown (57P01, also sent by
 * `pg_terminate_backend`), crash recovery (57P02), not accepting connections (57P03), database
 * dropped (57P04)? Then the pool's other idle connections are most likely gone too.
 */
export const isServerTermination = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code
  return code === "57P01" || code === "57P02" || code === "57P03" || code === "57P04"
}

export const markBroken = (conn: PgConnection, error: Error): void => {
  if (conn.broken !== undefined) return
  conn.broken = error
  conn.onBroken?.(conn)
}

/**
 * Opens a connection in the current scope (closed with the scope). Interruptible: an
 * interrupted connect tears its socket down.
 */
export const connect = (config: Pg.ClientConfig): Effect.Effect<PgConnection, SqlError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      restore(Effect.async<PgConnection, SqlError>((resume) => {
        const client = new Pg.Client(config)
        const conn: { -readonly [K in keyof PgConnection]: PgConnection[K] } = {
          client,
          pid: 0,
          broken: undefined,
          onBroken: undefined,
          parameters: {},
          onParameter: undefined,
          onReadOnly: undefined
        }
        // pg's Connection emits every backend message; pg.Client ignores ParameterStatus
        ;(client as unknown as { connection: { on: (event: string, f: (msg: any) => void) => void } }).connection.on(
          "parameterStatus",
          (msg: { parameterName?: unknown; parameterValue?: unknown }) => {
            if (typeof msg?.parameterName !== "string" || typeof msg.parameterValue !== "string") return
            conn.parameters[msg.parameterName] = msg.parameterValue
            conn.onParameter?.(conn, msg.parameterName)
          }
        )
        // an idle client without an error listener crashes the process when its socket resets
        client.on("error", (error) => markBroken(conn, error))
        client.on("end", () => markBroken(conn, new Error("connection ended")))
        client.connect((error: Error | undefined) => {
          if (error) {
            destroySocket(client)
            resume(Effect.fail(new SqlError({ cause: error, message: `Failed to connect: ${error.message}` })))
          } else {
            conn.pid = (client as unknown as { processID: number }).processID
            resume(Effect.succeed(conn))
          }
        })
        return Effect.sync(() => destroySocket(client))
      })),
      (conn) => Effect.as(Effect.addFinalizer(() => close(conn)), conn)
    )
  )

/**
 * Ends the session politely (Terminate), or destroys the socket if that does not finish. A
 * broken connection has no session left to end: its socket is destroyed at once, which frees
 * its place in the pool sooner.
 */
export const close = (conn: PgConnection): Effect.Effect<void> =>
  conn.broken !== undefined ? Effect.sync(() => destroySocket(conn.client)) : Effect.async<void>((resume) => {
    conn.broken ??= new Error("connection closed by the pool")
    // one timer, not an Effect timeout: a restart closes every connection at once
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      destroySocket(conn.client)
      resume(Effect.void)
    }
    const timer = setTimeout(finish, CLOSE_GRACE_MS)
    conn.client.end().then(finish, finish)
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      destroySocket(conn.client)
    })
  })

export interface QueryConfig {
  readonly text: string
  readonly values: ReadonlyArray<unknown>
  readonly rowMode?: "array" | undefined
  /** A prepared statement's name (see prepared.ts); unnamed when absent. */
  readonly name?: string | undefined
}

/** A query sent on a connection, not necessarily finished. */
export interface Running {
  readonly pgQuery: unknown
  finished: boolean
  onFinished: (() => void) | undefined
  /**
   * While a cancel request for it is on its way: what to run once the server has taken it (the
   * connection's return). A cancel that arrives after the query ended would cancel the next one.
   */
  cancelling: Array<() => void> | undefined
}

export const toSqlError = (error: Error): SqlError =>
  new SqlError({ cause: error, message: `Failed to execute statement: ${error.message}` })

/**
 * Sends one query; `done` is called once it ends. A fatal error (the session is gone) marks
 * the connection broken before `done` runs: the socket's "end" event may come later.
 */
export const start = (
  conn: PgConnection,
  config: QueryConfig,
  done: (error: Error | undefined, result: Pg.QueryResult) => void
): Running => {
  const running: { -readonly [K in keyof Running]: Running[K] } = {
    pgQuery: undefined,
    finished: false,
    onFinished: undefined,
    cancelling: undefined
  }
  let submitting = true
  let answered = false
  const finish = (error: Error | undefined, result: any, fatal: boolean) => {
    running.finished = true
    running.onFinished?.()
    if (fatal) markBroken(conn, error!)
    else if (error && (error as { code?: unknown }).code === "25006") conn.onReadOnly?.(conn)
    done(error, result)
  }
  const callback = (error: Error | undefined, result: any) => {
    // pg calls a query's callback again at ReadyForQuery after a parameter it could not encode
    if (answered) return
    answered = true
    if (!error) return finish(undefined, result, false)
    // thrown while pg encoded the parameters (a toPostgres or toJSON of the caller's, a cycle):
    // nothing ran, pg sent Close + Sync and the session is fine
    const fatal = !submitting && isFatal(error)
    if (!fatal && (conn.client as unknown as { readyForQuery?: boolean }).readyForQuery === false) {
      // the session's transaction status is known at the ReadyForQuery that follows the error
      // (a BEGIN in this text left it in a failed transaction): the connection's return reads it
      const clientSide = submitting
      afterReadyForQuery(conn.client, () => {
        // pg closed the named statement it had just parsed, yet records it as parsed (at its
        // ParseComplete): forgotten, its next use parses it again
        if (clientSide && config.name !== undefined) forgetParsed(conn.client, config.name)
        finish(error, result, false)
      })
      return
    }
    finish(error, result, fatal)
  }
  // pg clones a config object (by property descriptors) on every query; text and values as
  // arguments skip that: the object form is only needed for rowMode
  const pgQuery = config.rowMode === undefined
    ? new Pg.Query(config.text, config.values as Array<unknown>, callback)
    : new Pg.Query({ text: config.text, values: config.values as Array<unknown>, rowMode: config.rowMode } as Pg.QueryConfig, undefined, callback)
  // a named statement: parsed once per connection (pg tracks which), then bound and executed
  if (config.name !== undefined) (pgQuery as unknown as { name: string }).name = config.name
  running.pgQuery = pgQuery
  try {
    conn.client.query(running.pgQuery as Pg.QueryConfig)
  } finally {
    submitting = false
  }
  return running
}

const forgetParsed = (client: Pg.Client, name: string): void => {
  const connection = (client as unknown as { connection?: { parsedStatements?: Record<string, unknown> } }).connection
  if (connection?.parsedStatements !== undefined) delete connection.parsedStatements[name]
}

/** Runs `f` once the client has handled the server's next ReadyForQuery, or its socket has ended. */
const afterReadyForQuery = (client: Pg.Client, f: () => void): void => {
  const connection = (client as unknown as { connection: import("node:events").EventEmitter }).connection
  const once = () => {
    connection.off("readyForQuery", once)
    connection.off("end", once)
    f()
  }
  // registered after the client's own listener: its transaction status is updated first
  connection.on("readyForQuery", once)
  connection.on("end", once)
}

/**
 * Runs one query on a connection already held. Interrupting it sends Postgres a protocol cancel
 * request (see `cancelRequest`), so the connection is never lent mid-query.
 */
export const query = (
  conn: PgConnection,
  config: QueryConfig,
  cancelConfig: Pg.ClientConfig
): Effect.Effect<Pg.QueryResult, SqlError> =>
  Effect.async<Pg.QueryResult, SqlError>((resume) => {
    if (conn.broken !== undefined) {
      return resume(Effect.fail(new SqlError({ cause: conn.broken, message: `Connection is broken: ${conn.broken.message}` })))
    }
    const running = start(conn, config, (error, result) =>
      resume(error ? Effect.fail(toSqlError(error)) : Effect.succeed(result)))
    // built only if the query is interrupted
    return Effect.suspend(() => cancelRequest(conn, running, cancelConfig))
  })

interface CancelConnection {
  on(event: "connect" | "error" | "end", listener: () => void): void
  connect(port: number | string, host?: string): void
  cancel(processID: number, secretKey: number): void
}

/**
 * A protocol cancel request: a new connection sends CancelRequest(pid, secret key), and the
 * server closes it. What pg's `Client#cancel` does, without its deprecated `activeQuery` check
 * (the caller knows the query is running) and with an error listener (a failed cancel must not
 * crash the process: the query's end, or the grace timeout, decides what happens next).
 * `closed` is called once the server has closed that connection — it has then signalled the
 * backend, so the cancel can no longer hit a later query — or it failed (`false`), or after
 * `CANCEL_GRACE_MS` without either (`true`: the cancel may still arrive).
 */
const sendCancel = (cancelConfig: Pg.ClientConfig, target: Pg.Client, closed: (unconfirmed: boolean) => void): void => {
  const { processID, secretKey } = target as unknown as { processID: number; secretKey: number }
  // the server this connection is on (one of several hosts)
  const { host, port } = target as unknown as { host: string; port: number }
  const helper = new Pg.Client({ ...cancelConfig, host, port }) as unknown as { connection: CancelConnection; host: string; port: number }
  const con = helper.connection
  let done = false
  const finish = (unconfirmed: boolean) => {
    if (done) return
    done = true
    clearTimeout(timer)
    ;(con as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.()
    closed(unconfirmed)
  }
  const timer = setTimeout(() => finish(true), CANCEL_GRACE_MS)
  con.on("error", () => finish(false))
  con.on("end", () => finish(false))
  con.on("connect", () => con.cancel(processID, secretKey))
  if (helper.host.startsWith("/")) con.connect(`${helper.host}/.s.PGSQL.${helper.port}`)
  else con.connect(helper.port, helper.host)
}

/**
 * Sends a protocol cancel request for a running query (through `cancelConfig`'s host and port
 * — never `pg_cancel_backend`, which would hit the wrong backend behind PgBouncer) and waits up
 * to 5 s for it to end and for the server to have taken the cancel; if the query does not end,
 * or the cancel is not confirmed, the connection is marked broken and will be destroyed. Until
 * the cancel is taken, the query's `cancelling` holds back the connection's return.
 */
export const cancelRequest = (conn: PgConnection, running: Running, cancelConfig: Pg.ClientConfig): Effect.Effect<void> =>
  Effect.async<void>((done) => {
    if (running.finished) return done(Effect.void)
    const waiting: Array<() => void> = []
    let taken = false
    const check = () => {
      if (running.finished && taken) done(Effect.void)
    }
    running.cancelling = waiting
    running.onFinished = check
    sendCancel(cancelConfig, conn.client, (unconfirmed) => {
      if (unconfirmed) markBroken(conn, new Error("cancel request not confirmed by the server"))
      taken = true
      running.cancelling = undefined
      for (const f of waiting) f()
      check()
    })
  }).pipe(
    Effect.interruptible,
    Effect.timeoutOption(CANCEL_GRACE_MS),
    Effect.flatMap((ended) =>
      Effect.sync(() => {
        if (ended._tag === "None") markBroken(conn, new Error("query did not end after a cancel request"))
      })
    )
  )

/**
 * Makes a returned connection fit to lend again: broken → fail (evict); still in a transaction
 * (or a failed one) → ROLLBACK, and fail if that fails. `undefined` — nothing to do — in the
 * common case of an idle, healthy session, so that a return costs no effect at all.
 */
export const recycle = (
  conn: PgConnection,
  cancelConfig: Pg.ClientConfig
): Effect.Effect<void, SqlError | Error> | undefined => {
  if (conn.broken !== undefined) return Effect.fail(conn.broken)
  if (!needsRollback(conn.client.getTransactionStatus?.())) return undefined
  return Effect.asVoid(query(conn, { text: "ROLLBACK", values: [] }, cancelConfig))
}

/** Is the connection alive? Broken → fail; otherwise a `SELECT 1` round trip. */
export const validate = (conn: PgConnection, cancelConfig: Pg.ClientConfig): Effect.Effect<void, SqlError | Error> =>
  conn.broken !== undefined
    ? Effect.fail(conn.broken)
    : Effect.asVoid(query(conn, { text: "SELECT 1", values: [] }, cancelConfig))
