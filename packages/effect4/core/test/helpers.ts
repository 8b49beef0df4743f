/**
 * Test helpers: a simulated resource that records every creation and destruction, and a way to
 * let forked fibers (creations, destructions, timers) run until a condition holds.
 */
import { Effect, type Scope } from "effect"
import { Pool } from "../src/index.js"

export interface Conn {
  readonly id: number
  open: boolean
}

/** A fake backend: counts, can fail or slow down creation, and tracks what is alive. */
export class Backend {
  created = 0
  destroyed = 0
  attempts = 0
  readonly alive = new Set<Conn>()
  readonly destroyedIds: Array<number> = []
  /** When set, creation fails with this error. */
  failWith: Error | undefined
  /** Creations still to fail (then they succeed again). */
  failCount = 0
  /** When set, creation takes this long (Clock time, so TestClock drives it). */
  delay: number | undefined

  /** Connects (interruptibly, taking `delay`), then opens the connection (uninterruptibly). */
  readonly acquire: Effect.Effect<Conn, Error, Scope.Scope> = Effect.suspend(() => {
    this.attempts++
    return this.delay === undefined ? this.open : Effect.andThen(Effect.sleep(this.delay), this.open)
  })

  private readonly open: Effect.Effect<Conn, Error, Scope.Scope> = Effect.acquireRelease(
    Effect.suspend(() => {
      if (this.failWith !== undefined) return Effect.fail(this.failWith)
      if (this.failCount > 0) {
        this.failCount--
        return Effect.fail(new Error("transient failure"))
      }
      const conn = { id: this.created++, open: true }
      this.alive.add(conn)
      return Effect.succeed(conn)
    }),
    (conn) =>
      Effect.sync(() => {
        if (!this.alive.has(conn)) throw new Error(`conn ${conn.id} destroyed twice`)
        conn.open = false
        this.alive.delete(conn)
        this.destroyed++
        this.destroyedIds.push(conn.id)
      })
  )
}

/** Yields until `check` holds (forked fibers make progress meanwhile); fails after many tries. */
export const until = (what: string, check: () => boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    let tries = 0
    const loop: Effect.Effect<void> = Effect.suspend(() => {
      if (check()) return Effect.void
      if (++tries > 10_000) return Effect.die(new Error(`never happened: ${what}`))
      return Effect.andThen(Effect.yieldNow, loop)
    })
    return loop
  })

/** Yields a fixed number of times: lets forked fibers run when nothing should change. */
export const settle = Effect.forEach(Array.from({ length: 50 }), () => Effect.yieldNow, { discard: true })

export type P = Pool.Pool<Conn, Error>

/** The pool's stats, now. */
export const stats = <A, E>(pool: Pool.Pool<A, E>) => Effect.runSync(Pool.stats(pool))
