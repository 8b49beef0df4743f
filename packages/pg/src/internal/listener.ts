/**
 * LISTEN on a dedicated connection (never a pooled one: a pooled connection would carry its
 * LISTEN state to the next borrower). Opened on the first `listen`, re-established with backoff
 * whenever it breaks, re-subscribing every channel. Notifications sent while it is down are lost,
 * as with any LISTEN client.
 *
 * @internal
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import Pg from "pg"
import { connect, type PgConnection, query } from "./connection.js"
import type { HostBook } from "@effect-pool/engine/pg/hosts"
import { connectTarget } from "./hosts.js"
import { type ConnectionSettings, isSingle } from "./options.js"

export interface Listener {
  readonly listen: (channel: string) => Stream.Stream<string, SqlError>
  /** The live LISTEN connection, if any (for tests and stats). */
  readonly current: () => PgConnection | undefined
}

const reconnectBackoff = Schedule.exponential("50 millis", 2).pipe(Schedule.union(Schedule.spaced("2 seconds")))

export const makeListener = (
  settings: ConnectionSettings,
  /** Several hosts: where the pool notes each host's failures and refusals. */
  book?: HostBook | undefined
): Effect.Effect<Listener, never, Scope.Scope> =>
  Effect.gen(function*() {
    const layerScope = yield* Effect.scope
    const channels = new Map<string, Set<(payload: string) => void>>()
    let current: PgConnection | undefined
    let connected = Deferred.unsafeMake<PgConnection>(undefined as never)
    let started = false

    const subscribe = (conn: PgConnection, channel: string) =>
      query(conn, { text: `LISTEN ${Pg.escapeIdentifier(channel)}`, values: [] }, settings.cancel)

    const session = Effect.gen(function*() {
      const scope = yield* Scope.make()
      // on several hosts, the server the pool's own connections would go to (LISTEN fails on a
      // standby, and a NOTIFY reaches only the listeners of the server it ran on)
      const conn = isSingle(settings.target)
        ? yield* Scope.extend(connect(settings.client), scope)
        : (yield* Scope.extend(connectTarget(settings.target, settings.client, settings.cancel, book), scope)).conn
      const broken = yield* Deferred.make<void>()
      conn.onBroken = () => Deferred.unsafeDone(broken, Exit.void)
      if (conn.broken !== undefined) Deferred.unsafeDone(broken, Exit.void)
      conn.client.on("notification", (message) => {
        for (const emit of channels.get(message.channel) ?? []) emit(message.payload ?? "")
      })
      for (const channel of channels.keys()) yield* Effect.ignore(subscribe(conn, channel))
      current = conn
      Deferred.unsafeDone(connected, Exit.succeed(conn))
      yield* Deferred.await(broken)
      current = undefined
      connected = Deferred.unsafeMake<PgConnection>(undefined as never)
      yield* Effect.logWarning(`pg: LISTEN connection lost (${conn.broken?.message}); reconnecting`)
      yield* Scope.close(scope, Exit.void)
    })

    const start = Effect.suspend(() => {
      if (started) return Effect.void
      started = true
      return Effect.asVoid(Effect.forkIn(Effect.forever(Effect.retry(session, reconnectBackoff)), layerScope))
    })

    const listen = (channel: string): Stream.Stream<string, SqlError> =>
      Stream.asyncPush<string, SqlError>((emit) =>
        Effect.gen(function*() {
          const subscribers = channels.get(channel) ?? new Set<(payload: string) => void>()
          const push = (payload: string) => emit.single(payload)
          subscribers.add(push)
          channels.set(channel, subscribers)
          yield* Effect.addFinalizer(() =>
            Effect.suspend(() => {
              subscribers.delete(push)
              if (subscribers.size > 0) return Effect.void
              channels.delete(channel)
              const conn = current
              return conn === undefined
                ? Effect.void
                : Effect.ignore(query(conn, { text: `UNLISTEN ${Pg.escapeIdentifier(channel)}`, values: [] }, settings.cancel))
            })
          )
          yield* start
          const conn = yield* Deferred.await(connected)
          if (subscribers.size === 1) yield* subscribe(conn, channel)
        })
      )

    return { listen, current: () => current }
  })
