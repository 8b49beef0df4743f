/**
 * `@effect-pool/core`: `Pool` and `KeyedPool` for Effect-TS, and their errors.
 *
 * @example
 * ```ts
 * import { Pool, KeyedPool, PoolError } from "@effect-pool/core"
 * ```
 * @since 4.0.0
 */

/**
 * A bounded, fair, self-healing pool of expensive items.
 *
 * @since 4.0.0
 */
export * as Pool from "./Pool.js"

/**
 * A pool per key (origin, shard, tenant) with per-key and global limits.
 *
 * @since 4.0.0
 */
export * as KeyedPool from "./KeyedPool.js"

/**
 * The typed errors of pools.
 *
 * @since 4.0.0
 */
export * as PoolError from "./PoolError.js"

/**
 * Option validation for pools and kind packages: every option checked at construction, a
 * `PoolConfigError` naming the bad one.
 *
 * @since 4.0.0
 */
export * as OptionCheck from "./OptionCheck.js"

export {
  /**
   * @since 4.0.0
   */
  PoolClosedError,
  /**
   * @since 4.0.0
   */
  PoolConfigError,
  /**
   * @since 4.0.0
   */
  PoolQueueFullError,
  /**
   * @since 4.0.0
   */
  PoolTimeoutError
} from "./PoolError.js"
