/**
 * `@effect-pool/core`: `Pool` and `KeyedPool` for Effect-TS, and their errors.
 *
 * @example
 * ```ts
 * import { Pool, KeyedPool, PoolError } from "@effect-pool/core"
 * ```
 * @since 0.1.0
 */

/**
 * A bounded, fair, self-healing pool of expensive items.
 *
 * @since 0.1.0
 */
export * as Pool from "./Pool.js"

/**
 * A pool per key (origin, shard, tenant) with per-key and global limits.
 *
 * @since 0.1.0
 */
export * as KeyedPool from "./KeyedPool.js"

/**
 * The typed errors of pools.
 *
 * @since 0.1.0
 */
export * as PoolError from "./PoolError.js"

/**
 * Option validation for pools and kind packages: every option checked at construction, a
 * `PoolConfigError` naming the bad one.
 *
 * @since 0.2.0
 */
export * as OptionCheck from "./OptionCheck.js"

export {
  /**
   * @since 0.1.0
   */
  PoolClosedError,
  /**
   * @since 0.1.0
   */
  PoolConfigError,
  /**
   * @since 0.1.0
   */
  PoolQueueFullError,
  /**
   * @since 0.1.0
   */
  PoolTimeoutError
} from "./PoolError.js"
