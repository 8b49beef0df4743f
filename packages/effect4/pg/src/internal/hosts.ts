/**
 * More than one server: each new connection tries the target's hosts in order (or shuffled,
 * `loadBalanceHosts: "random"`), checks the session against `targetSessionAttrs` (libpq's
 * meaning, the engine's `sessionMatches`), and closes it and moves on when it does not match.
 * A pooled session whose server stops matching (a ParameterStatus change, a 25006 read-only
 * violation, the server ending sessions) invalidates every connection to that host: idle ones
 * now, borrowed ones when returned — a transaction finishes on the server it began on. A
 * read-only signal, which may be the session's own doing, first suspends the host and is
 * confirmed by a fresh session (the engine's `HostBook.suspect` / `confirmed`). The
 * bookkeeping per host (items, last error and mismatch, stats) is the engine's `HostBook`, as in
 * the Effect 3 edition.
 *
 * Only used when there is more than one host or `targetSessionAttrs` is not `any`: the
 * single-host path opens connections as before.
 *
 * @internal
 */
import type { Pool } from "@effect-pool/core"
import type { PgConnection } from "@effect/sql-pg"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { ConnectionError, SqlError } from "effect/sql/SqlError"
import { isServerTermination, open, type PooledConnection } from "./connection.js"
import { causeOf, isPermanent, sqlState } from "./options.js"
import {
  confirmationTimeoutMillis,
  describeChange,
  describeMismatch,
  doubtsServer,
  type HostBook,
  type HostPort,
  hostKey,
  hostOrder,
  isReadOnlyViolation,
  makeHostBook,
  type SessionState,
  sessionMatches,
  stateFromRow,
  stateParameters,
  stateQuery,
  stillMatches,
  type Target
} from "@effect-pool/engine/pg/hosts"

const messageOf = (error: unknown): string => {
  const cause = causeOf(error) as { message?: unknown } | undefined
  const outer = (error as { message?: unknown } | undefined)?.message
  const inner = typeof cause?.message === "string" ? cause.message : undefined
  return typeof outer === "string" && inner !== undefined && !outer.includes(inner) ? `${outer}: ${inner}` : String(outer ?? inner ?? error)
}

export interface Hosts {
  readonly acquire: (item: Pool.ItemHandle) => Effect.Effect<PooledConnection, SqlError, Scope.Scope>
  /** Per host: connections, failures, refusals (`PgPool.stats`'s `hosts`). */
  readonly book: HostBook
}

/**
 * `fork` runs a confirmation in the pool's scope (interrupted when the pool closes), with the
 * layer's services (its Clock drives the confirmation's timeout).
 */
export const make = (config: PgConnection.Config, target: Target, fork: (effect: Effect.Effect<void>) => void): Hosts => {
  const attrs = target.targetSessionAttrs
  const book = makeHostBook(target)

  /** The state of `host`'s server as a fresh session sees it (not a session's own SETs), within the engine's bound. */
  const confirmWithin = Duration.millis(
    confirmationTimeoutMillis(config.connectTimeout === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(config.connectTimeout)))
  )
  const serverState = (host: HostPort): Effect.Effect<SessionState, unknown> =>
    Effect.timeoutOrElse(
      Effect.scoped(Effect.flatMap(open({ ...config, host: host.host, port: host.port }, undefined), (fresh) =>
        Effect.flatMap(fresh.pg.query(stateQuery, [], false), (result) => {
          const read = stateFromRow(result.rows[0])
          return read === undefined ? Effect.fail(new Error(`${stateQuery} returned no state`)) : Effect.succeed(read)
        }))),
      { duration: confirmWithin, orElse: () => Effect.fail(new Error("the fresh session did not answer in time")) }
    )
  /** Asks a fresh session on `host` after `book.suspect`; the book carries out the answer. */
  const confirmOn = (host: HostPort): void => {
    fork(Effect.flatMap(Effect.result(serverState(host)), (answer) =>
      Effect.sync(() => {
        book.confirmed(host, answer._tag === "Success" ? { server: answer.success } : { failure: messageOf(answer.failure) })
      })))
  }

  /** One attempt on one host, in its own scope (closed when refused). */
  const attempt = (host: HostPort, item: Pool.ItemHandle, parent: Scope.Scope) =>
    Effect.gen(function*() {
      const key = hostKey(host)
      const scope = yield* Scope.fork(parent)
      let state: { -readonly [K in keyof SessionState]: SessionState[K] } | undefined
      let accepted = false
      // the engine's stillMatches: prefer-standby takes any server in the end (a promoted
      // standby still serves it)
      const mismatch = (): string | undefined =>
        state === undefined || !accepted || stillMatches(attrs, state)
          ? undefined
          : describeChange(attrs, state)
      /** Why the session no longer matches, if it does not: noted, and this host's connections evicted. */
      const changed = (): string | undefined => {
        const why = mismatch()
        if (why === undefined) return undefined
        book.mismatched(host, why)
        // every connection to this host: idle ones destroyed now, borrowed ones when returned
        book.evict(host)
        return why
      }
      /** This session's own default_transaction_read_only, as it last reported it. */
      let sessionReadOnly = false
      // a 25006 or a default_transaction_read_only report may be this session's own doing (SET
      // TRANSACTION READ ONLY, SET default_transaction_read_only): when it puts the server in
      // doubt (the engine's doubtsServer), the host is suspended at once — its connections not
      // lent, new ones tried elsewhere first — and a fresh session on it asked; the engine's host
      // book carries out the answer (judgeReadOnlySignal)
      const signal = (readOnly: boolean): void => {
        if (state === undefined || !accepted) return
        if (!doubtsServer(attrs, { inHotStandby: state.inHotStandby, readOnly })) return
        if (book.suspect(host, item, () => sessionReadOnly)) confirmOn(host)
      }
      const watch = (name: string, value: string): void => {
        if (state === undefined || !stateParameters.includes(name)) return
        if (name === "in_hot_standby") {
          // only the server changes it (a promotion)
          state.inHotStandby = value === "on"
          changed()
        } else if (name === "default_transaction_read_only") {
          sessionReadOnly = value === "on"
          signal(sessionReadOnly)
        }
      }
      const hooks = {
        invalidate: () => item.invalidate(),
        // the server ended sessions: the others to this host are most likely gone too
        evictIdle: () => void book.evict(host)
      }
      const opened = yield* Effect.exit(Scope.provide(open({ ...config, host: host.host, port: host.port }, hooks, watch), scope))
      if (Exit.isFailure(opened)) {
        yield* Scope.close(scope, Exit.void)
        const error = opened.cause.reasons.find((reason) => reason._tag === "Fail")
        return { _tag: "failed", key, error: error?._tag === "Fail" ? error.error : undefined, cause: opened.cause } as const
      }
      const conn = opened.value
      if (attrs !== "any") {
        const checked = yield* Effect.exit(conn.pg.query(stateQuery, [], false))
        if (Exit.isFailure(checked)) {
          yield* Scope.close(scope, Exit.void)
          const error = checked.cause.reasons.find((reason) => reason._tag === "Fail")
          return { _tag: "failed", key, error: error?._tag === "Fail" ? error.error : undefined, cause: checked.cause } as const
        }
        const read = stateFromRow(checked.value.rows[0])
        if (read === undefined) {
          yield* Scope.close(scope, Exit.void)
          return { _tag: "failed", key, error: new Error(`${stateQuery} returned no state`), cause: undefined } as const
        }
        state = { ...read }
      }
      const accept = Effect.suspend(() => {
        accepted = true
        // asked by every validation (a server before 14 reports no change): the answer kept, and
        // a mismatch evicts this host's other connections too, as a reported one does
        conn.mismatch = (row) => {
          const read = stateFromRow(row)
          if (read === undefined) return `${stateQuery} returned no state`
          if (state !== undefined && !stillMatches(attrs, read) && sessionReadOnly && !read.inHotStandby) {
            // read-only by this session's own SET: this connection goes; the server is asked
            signal(true)
            return "the session made itself read-only by default (SET default_transaction_read_only): discarded"
          }
          if (state !== undefined) {
            state.inHotStandby = read.inHotStandby
            state.readOnly = read.readOnly
          }
          return changed()
        }
        conn.onError = (error) => {
          // a write on a server that went read-only: news to us when no reload was reported yet
          if (state !== undefined && isReadOnlyViolation(sqlState(error))) signal(true)
          else if (isServerTermination(error)) book.evict(host)
        }
        return Effect.as(Scope.addFinalizer(scope, Effect.sync(book.add(host, item))), conn)
      })
      if (state !== undefined && !sessionMatches(attrs, state)) {
        return { _tag: "refused", key, why: `${key}: ${describeMismatch(attrs, state)}`, mismatch: describeMismatch(attrs, state), scope, accept } as const
      }
      return { _tag: "accepted", key, conn: yield* accept } as const
    })

  const acquire = (item: Pool.ItemHandle): Effect.Effect<PooledConnection, SqlError, Scope.Scope> =>
    Effect.gen(function*() {
      const parent = yield* Effect.scope
      // a host whose read-only signal is being confirmed is tried last
      const order = book.route(hostOrder(target, Math.random))
      const tried: Array<string> = []
      const failures: Array<unknown> = []
      // prefer-standby: the first session that is no standby is kept as the fallback
      let fallback: { readonly scope: Scope.Closeable; readonly accept: Effect.Effect<PooledConnection>; readonly key: string } | undefined
      for (const host of order) {
        const result = yield* attempt(host, item, parent)
        if (result._tag === "accepted") {
          if (fallback !== undefined) yield* Scope.close(fallback.scope, Exit.void)
          return result.conn
        }
        if (result._tag === "failed") {
          const message = messageOf(result.error ?? result.cause)
          book.failed(host, message)
          const why = `${result.key}: ${message}`
          tried.push(why)
          failures.push(result.error)
          continue
        }
        book.mismatched(host, result.mismatch)
        if (attrs === "prefer-standby" && fallback === undefined) {
          fallback = { scope: result.scope, accept: result.accept, key: result.key }
          tried.push(result.why)
          continue
        }
        yield* Scope.close(result.scope, Exit.void)
        tried.push(result.why)
      }
      if (fallback !== undefined) {
        // prefer-standby's second pass (libpq's): no standby, so the first server that answered
        return yield* fallback.accept
      }
      // every host refused: name each and why; permanent (retrying will not help) only when every
      // host failed that way
      const permanent = failures.length === order.length && failures.every(isPermanent)
      return yield* Effect.fail(
        new SqlError({
          reason: new ConnectionError({
            cause: permanent ? causeOf(failures[0]) : new Error(tried.join("; ")),
            message: `PgPool: no host matched targetSessionAttrs ${attrs}: ${tried.join("; ")}`,
            operation: "connect"
          })
        })
      )
    })

  return { acquire, book }
}
