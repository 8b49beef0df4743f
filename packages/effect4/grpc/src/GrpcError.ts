/**
 * The typed error of a gRPC call made through the pool.
 *
 * @since 4.0.0
 */
import * as Data from "effect/Data"
import type { Metadata } from "@grpc/grpc-js"

/**
 * A call ended with a non-OK status: its `code` (grpc-js `status`), `details` and trailing
 * `metadata`, as the server (or the client library, for DEADLINE_EXCEEDED, UNAVAILABLE,
 * CANCELLED) reported them.
 *
 * @example
 * ```ts
 * import { GrpcError } from "@effect-pool/grpc"
 * import { status } from "@grpc/grpc-js"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, GrpcError>
 * const orDefault = Effect.catchIf(call, (e) => e instanceof GrpcError && e.code === status.NOT_FOUND, () => Effect.succeed(""))
 * ```
 * @since 4.0.0
 * @category errors
 */
export class GrpcError extends Data.TaggedError("GrpcError")<{
  /** The status code (`@grpc/grpc-js`'s `status` enum). */
  readonly code: number
  readonly details: string
  /** Trailing metadata sent with the status. */
  readonly metadata: Metadata | undefined
  readonly message: string
}> {}
