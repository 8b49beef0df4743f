/**
 * `@effect-pool/worker`: a `worker_threads` pool for Effect, and its errors.
 *
 * @example
 * ```ts
 * import { WorkerPool, WorkerError } from "@effect-pool/worker"
 * ```
 * @since 0.1.0
 */

/**
 * A pool of worker threads running a module's handler.
 *
 * @since 0.1.0
 */
export * as WorkerPool from "./WorkerPool.js"

/**
 * The typed errors of worker pools.
 *
 * @since 0.1.0
 */
export * as WorkerError from "./WorkerError.js"

export {
  /**
   * @since 0.1.0
   */
  TaskFailedError,
  /**
   * @since 0.2.0
   */
  TaskInputError,
  /**
   * @since 0.1.0
   */
  TaskTimeoutError,
  /**
   * @since 0.1.0
   */
  WorkerCrashedError,
  /**
   * @since 0.1.0
   */
  WorkerStartupError
} from "./WorkerError.js"
