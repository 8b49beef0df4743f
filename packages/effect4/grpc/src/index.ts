/**
 * `@effect-pool/grpc`: a @grpc/grpc-js channel pool for Effect, and its error.
 *
 * @example
 * ```ts
 * import { GrpcPool, GrpcError } from "@effect-pool/grpc"
 * ```
 * @since 4.0.0
 */

/**
 * A pool of grpc-js channels with an Effect client.
 *
 * @since 4.0.0
 */
export * as GrpcPool from "./GrpcPool.js"

export {
  /**
   * @since 4.0.0
   */
  GrpcError
} from "./GrpcError.js"
