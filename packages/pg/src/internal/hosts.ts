/**
 * Connecting to one of several servers (libpq's multi-host rules, decided by the engine's
 * `pg/hosts`): hosts tried in order (or shuffled), each session's state read from its
 * ParameterStatus (else one query), sessions that do not match closed, and the creation error
 * naming every host tried and why.
 *
 * @internal
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type Pg from "pg"
import {
  describeMismatch,
  type HostBook,
  hostKey,
  type HostPort,
  hostOrder,
  passes,
  type SessionState,
  sessionMatches,
  stateFromParameters,
  stateFromRow,
  stateQuery,
  type Target
} from "@effect-pool/engine/pg/hosts"
import * as Connection from "./connection.js"

/** The session state of `conn`: reported at startup (PG ≥ 14), else asked. */
export const sessionState = (
  conn: Connection.PgConnection,
  cancel: Pg.ClientConfig
): Effect.Effect<SessionState, SqlError> => {
  const reported = stateFromParameters(conn.parameters)
  if (reported !== undefined) return Effect.succeed(reported)
  return Effect.flatMap(Connection.query(conn, { text: stateQuery, values: [] }, cancel), (result) => {
    const state = stateFromRow(result.rows[0])
    return state === undefined
      ? Effect.fail(new SqlError({ cause: result.rows[0], message: "Failed to read the session state" }))
      : Effect.succeed(state)
  })
}

/**
 * A connection to the first host (in `hostOrder`) whose session matches, in the current scope;
 * `prefer-standby` takes a second pass accepting any server. Fails naming every host tried.
 * Hosts `book` holds suspended (a read-only signal being confirmed) are tried last.
 * Each failure and refusal is noted in `book` under its host.
 */
export const connectTarget = (
  target: Target,
  config: Pg.ClientConfig,
  cancel: Pg.ClientConfig,
  book?: HostBook | undefined,
  random: () => number = Math.random
): Effect.Effect<
  { readonly conn: Connection.PgConnection; readonly host: HostPort },
  SqlError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const outer = yield* Effect.scope
    const tried: Array<string> = []
    // a host whose read-only signal is being confirmed is tried last
    const order = book === undefined ? hostOrder(target, random) : book.route(hostOrder(target, random))
    for (let pass = 0; pass < passes(target.targetSessionAttrs); pass++) {
      for (const host of order) {
        const scope = yield* Scope.make()
        const attempt = yield* Connection.connect({ ...config, host: host.host, port: host.port }).pipe(
          Scope.extend(scope),
          Effect.flatMap((conn) =>
            Effect.map(sessionState(conn, cancel), (state) => ({ conn, state }))
          ),
          Effect.either
        )
        if (attempt._tag === "Right" && sessionMatches(target.targetSessionAttrs, attempt.right.state, pass)) {
          // the connection now lives as long as the pool's item
          yield* Scope.addFinalizer(outer, Scope.close(scope, Exit.void))
          return { conn: attempt.right.conn, host }
        }
        yield* Scope.close(scope, Exit.void)
        const why = attempt._tag === "Left"
          ? attempt.left.message
          : describeMismatch(target.targetSessionAttrs, attempt.right.state)
        if (attempt._tag === "Left") book?.failed(host, why)
        else book?.mismatched(host, why)
        tried.push(`${hostKey(host)}: ${why}`)
      }
    }
    return yield* Effect.fail(
      new SqlError({
        cause: tried,
        message: `Failed to connect: no server matched targetSessionAttrs "${target.targetSessionAttrs}" (tried ${tried.join("; ")})`
      })
    )
  })
