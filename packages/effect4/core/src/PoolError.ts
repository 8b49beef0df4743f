/**
 * The typed errors of `@effect-pool/core`. Every error a pool produces is one of these (besides
 * the item's own creation error `E`); defects stay defects.
 *
 * @since 4.0.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/**
 * A borrower waited longer than `acquireTimeout`. `phase` says what it was waiting for: `"wait"`
 * for an item to be returned (the pool was at `max`), `"create"` for an item being created. When
 * creations had failed, `cause` is the most recent creation failure — the real reason.
 *
 * @example
 * ```ts
 * import { Pool, PoolError } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * const program = (pool: Pool.Pool<string>) =>
 *   Pool.use(pool, (conn) => Effect.succeed(conn)).pipe(
 *     Effect.catchTag("PoolTimeoutError", (e) => Effect.logError(e.message, e.cause))
 *   )
 * ```
 * @since 4.0.0
 * @category errors
 */
export class PoolTimeoutError extends Data.TaggedError("PoolTimeoutError")<{
  /** The pool's `name`. */
  readonly pool: string
  /**
   * `"wait"`: waiting for a returned item; `"create"`: waiting for (or running) a creation;
   * `"suspended"`: waiting while items were out of rotation after a failed health check.
   */
  readonly phase: "wait" | "create" | "suspended"
  /** The timeout that fired. */
  readonly timeout: Duration.Duration
  /** The last creation failure, or (phase `"suspended"`) the last failed health check, if any. */
  readonly cause?: unknown
}> {
  override get message(): string {
    const what = this.phase === "wait"
      ? "waiting for an item to be returned"
      : this.phase === "create"
      ? "waiting for an item to be created"
      : "waiting for an item to pass its health check"
    const why = this.cause === undefined
      ? ""
      : `; last ${this.phase === "suspended" ? "health check" : "creation"} failure: ${describe(this.cause)}`
    return `pool "${this.pool}": timed out after ${Duration.format(this.timeout)} ${what}${why}`
  }
}

/**
 * The pool is closed (its Layer or Scope was released): no more borrows.
 *
 * @example
 * ```ts
 * import { PoolError } from "@effect-pool/core"
 *
 * const err = new PoolError.PoolClosedError({ pool: "db" })
 * console.log(err.message) // pool "db" is closed
 * ```
 * @since 4.0.0
 * @category errors
 */
export class PoolClosedError extends Data.TaggedError("PoolClosedError")<{ readonly pool: string }> {
  override get message(): string {
    return `pool "${this.pool}" is closed`
  }
}

/**
 * `maxWaiters` borrowers are already waiting: this one is turned away at once (load shedding).
 *
 * @example
 * ```ts
 * import { PoolError } from "@effect-pool/core"
 *
 * const err = new PoolError.PoolQueueFullError({ pool: "db", maxWaiters: 100 })
 * console.log(err.message)
 * ```
 * @since 4.0.0
 * @category errors
 */
export class PoolQueueFullError extends Data.TaggedError("PoolQueueFullError")<{
  readonly pool: string
  readonly maxWaiters: number
}> {
  override get message(): string {
    return `pool "${this.pool}": ${this.maxWaiters} borrowers already waiting`
  }
}

/**
 * Options rejected when the pool is made: `option` names the culprit, `reason` says why.
 *
 * @example
 * ```ts
 * import { Pool } from "@effect-pool/core"
 * import { Effect } from "effect"
 *
 * // fails with PoolConfigError { option: "min", reason: "must not exceed max (2)" }
 * const bad = Pool.make({ acquire: Effect.succeed(1), min: 5, max: 2 })
 * ```
 * @since 4.0.0
 * @category errors
 */
export class PoolConfigError extends Data.TaggedError("PoolConfigError")<{
  readonly pool: string
  readonly option: string
  readonly reason: string
}> {
  override get message(): string {
    return `pool "${this.pool}": invalid option ${this.option}: ${this.reason}`
  }
}

/**
 * Any error the pool itself produces.
 *
 * @example
 * ```ts
 * import { PoolError } from "@effect-pool/core"
 *
 * const describe = (e: PoolError.PoolError) => `${e._tag}: ${e.message}`
 * ```
 * @since 4.0.0
 * @category errors
 */
export type PoolError = PoolTimeoutError | PoolClosedError | PoolQueueFullError

const describe = (cause: unknown): string =>
  cause instanceof Error ? cause.message || cause.name : typeof cause === "string" ? cause : safeJson(cause)

const safeJson = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}
