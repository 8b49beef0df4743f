/**
 * `grpc.health.v1.Health/Check` on one channel, and its typed not-serving answer.
 *
 * @internal
 */
import { OptionCheck } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import * as Effect from "effect/Effect"
import { GrpcError } from "../GrpcError.js"
import { noCallOptions } from "./callOptions.js"
import type { PooledChannel } from "@effect-pool/engine/grpc/channel"
import { toGrpcError } from "./errors.js"
import { UnaryCall } from "./unary.js"

const healthPath = "/grpc.health.v1.Health/Check"
// grpc.health.v1.HealthCheckRequest { string service = 1; } / HealthCheckResponse { ServingStatus status = 1; }
const encodeHealthRequest = (service: string): Buffer => {
  const bytes = Buffer.from(service, "utf8")
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes])
}
const decodeHealthStatus = (bytes: Buffer): number => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1] : 0)
const SERVING = 1

/**
 * A health check that was answered, with a status other than SERVING (NOT_SERVING,
 * SERVICE_UNKNOWN): the service's word, not a broken connection. Users see a `GrpcError`
 * UNAVAILABLE (e.g. as a suspended wait's cause); the pool tells it apart by its class.
 */
export class NotServingError extends GrpcError {}

/** The failure of a health check that was answered, with a status other than SERVING. */
export const isNotServing = (error: unknown): boolean => error instanceof NotServingError

/** `grpc.health.v1.Health/Check` on one channel: fails unless the service is SERVING. */
export const checkHealth = (pooled: PooledChannel, service: string, timeout: number): Effect.Effect<void, GrpcError> =>
  Effect.callback<void, GrpcError>((resume) => {
    // the same channel-level unary call as the client's (its status and parse failures included)
    const call = new UnaryCall(pooled, healthPath, encodeHealthRequest, decodeHealthStatus, service, {
      ...noCallOptions,
      metadata: new grpc.Metadata(),
      deadline: timeout === Infinity || timeout > OptionCheck.MAX_TIMER_MILLIS ? Infinity : new Date(Date.now() + timeout)
    }, (result, status) => {
      if (result.code !== grpc.status.OK) return resume(Effect.fail(toGrpcError(result)))
      pooled.notServing = status !== SERVING
      if (status !== SERVING) {
        const details = `health: "${service}" is not SERVING (status ${status})`
        return resume(Effect.fail(new NotServingError({ code: grpc.status.UNAVAILABLE, details, metadata: undefined, message: `UNAVAILABLE: ${details}` })))
      }
      resume(Effect.void)
    })
    call.send()
    return Effect.sync(() => call.cancel())
  })
