/**
 * Per-call arguments, checked before a call borrows anything — the checks are the engine's
 * (`@effect-pool/engine/grpc/callOptions`, with this package's grpc-js): a bad metadata key or
 * value, an unparsable `timeout`, an invalid `deadline` or an unknown option is a typed
 * `GrpcError` INVALID_ARGUMENT returned by the call, never a throw inside a callback of the
 * pool's or grpc-js's (where it would be a defect, a leaked stream slot, or the process's end).
 *
 * @internal
 */
import { OptionCheck } from "@effect-pool/core"
import { type CallOptionsInput, noCall, type ParsedCall, parseCall } from "@effect-pool/engine/grpc/callOptions"
import * as grpc from "@grpc/grpc-js"
import type * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import { GrpcError } from "../GrpcError.js"

export { guarded, messageOf, type ParsedCall } from "@effect-pool/engine/grpc/callOptions"

/** Options of one call (see the engine's `CallOptionsInput`; `timeout` a `Duration`). */
export interface CallOptions extends CallOptionsInput<Duration.Input> {}

/** No options: the pool's defaults, no deadline (a call passes a `metadata` of its own: grpc-js adds to it). */
export const noCallOptions: ParsedCall = noCall(grpc)

/** The typed error of a bad call argument. */
export const invalidArgument = (option: string, reason: string): GrpcError => {
  const details = `invalid call option ${option}: ${reason}`
  return new GrpcError({ code: grpc.status.INVALID_ARGUMENT, details, metadata: undefined, message: `INVALID_ARGUMENT: ${details}` })
}

/** Checks and normalises a call's options; the failure is the call's result. */
export const parseCallOptions = (options: CallOptions | undefined): Result.Result<ParsedCall, GrpcError> => {
  if (options === undefined) return Result.succeed(noCall(grpc))
  const parsed = OptionCheck.run("call", (check) => parseCall(check, options, grpc))
  return Result.isSuccess(parsed) ? Result.succeed(parsed.success) : Result.fail(invalidArgument(parsed.failure.option, parsed.failure.reason))
}
