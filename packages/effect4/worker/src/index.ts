/**
 * `@effect-pool/worker`: a `worker_threads` pool for Effect, and its errors.
 *
 * @example
 * ```ts
 * import { WorkerPool, WorkerError } from "@effect-pool/worker"
 * ```
 * @since 4.0.0
 */

/**
 * A pool of worker threads running a module's handler.
 *
 * @since 4.0.0
 */
export * as WorkerPool from "./WorkerPool.js"

/**
 * The typed errors of worker pools.
 *
 * @since 4.0.0
 */
export * as WorkerError from "./WorkerError.js"

export {
  /**
   * @since 4.0.0
   */
  TaskFailedError,
  /**
   * @since 4.0.0
   */
  TaskInputError,
  /**
   * @since 4.0.0
   */
  TaskTimeoutError,
  /**
   * @since 4.0.0
   */
  WorkerCrashedError,
  /**
   * @since 4.0.0
   */
  WorkerStartupError
} from "./WorkerError.js"
