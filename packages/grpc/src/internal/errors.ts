/**
 * The pool's `GrpcError`s: grpc-js statuses as errors, and the failures the pool itself reports.
 *
 * @internal
 */
import type { Pool } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import { GrpcError } from "../GrpcError.js"
import { knownStatus } from "@effect-pool/engine/grpc/callOptions"
import { messageOf } from "./callOptions.js"

/** What a call fails with. */
export type CallError = GrpcError | Pool.BorrowError

const statusName = (code: number): string => grpc.status[code] ?? String(code)

/** Something threw where nothing should: INTERNAL, never a throw into a callback. */
export const internalError = (error: unknown): GrpcError => {
  const details = `internal error in the pool's call: ${messageOf(error)}`
  return new GrpcError({ code: grpc.status.INTERNAL, details, metadata: undefined, message: `INTERNAL: ${details}` })
}

/** An interceptor (or interceptor provider) threw as the call was made. */
export const interceptorError = (error: unknown): GrpcError => {
  const details = `an interceptor threw: ${messageOf(error)}`
  return new GrpcError({ code: grpc.status.INTERNAL, details, metadata: undefined, message: `INTERNAL: ${details}` })
}

/** A request message could not be written to a streaming call (Node's stream refused it, e.g. `null`). */
export const requestWriteFailed = (error: unknown): GrpcError => {
  const details = `Request message serialization failure: ${messageOf(error)}`
  return new GrpcError({ code: grpc.status.INTERNAL, details, metadata: undefined, message: `INTERNAL: ${details}` })
}

/** A streaming call's user callback (`onMetadata`, `onStatus`) threw: CANCELLED with what it threw. */
export const callbackFailed = (details: string): GrpcError =>
  new GrpcError({ code: grpc.status.CANCELLED, details, metadata: undefined, message: `CANCELLED: ${details}` })

/** A call's deadline passed while it waited for a channel. */
export const deadlineExceeded = (): GrpcError => {
  const details = "Deadline exceeded while waiting for a channel"
  return new GrpcError({ code: grpc.status.DEADLINE_EXCEEDED, details, metadata: undefined, message: `DEADLINE_EXCEEDED: ${details}` })
}

/** A grpc-js error (or status) as a `GrpcError`. */
export const toGrpcError = (error: Partial<grpc.StatusObject> & { readonly message?: string }): GrpcError => {
  // a code gRPC does not define (the server's fault) is UNKNOWN, its details saying so
  const { code, details } = knownStatus(error.code ?? grpc.status.UNKNOWN, error.details ?? error.message ?? "")
  return new GrpcError({ code, details, metadata: error.metadata, message: `${statusName(code)}: ${details}` })
}


/** No connection could be made: what a fail-fast call gets. */
export const unavailable = (target: string, reason: string): GrpcError => {
  const details = `no connection to ${target}: ${reason}`
  return new GrpcError({ code: grpc.status.UNAVAILABLE, details, metadata: undefined, message: `UNAVAILABLE: ${details}` })
}
