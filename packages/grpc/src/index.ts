/**
 * `@effect-pool/grpc`: a @grpc/grpc-js channel pool for Effect, and its error.
 *
 * @example
 * ```ts
 * import { GrpcPool, GrpcError } from "@effect-pool/grpc"
 * ```
 * @since 0.1.0
 */

/**
 * A pool of grpc-js channels with an Effect client.
 *
 * @since 0.1.0
 */
export * as GrpcPool from "./GrpcPool.js"

export {
  /**
   * @since 0.1.0
   */
  GrpcError
} from "./GrpcError.js"
