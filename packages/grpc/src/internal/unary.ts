/**
 * Unary calls: the lend-and-send loop that sends a call once more if it never left, around the
 * engine's calls (on the channel itself, or through its `Client` with interceptors).
 *
 * @internal
 */
import * as grpc from "@grpc/grpc-js"
import * as Effect from "effect/Effect"
import type { CallOptions } from "./callOptions.js"
import { type Method, unaryCalls } from "@effect-pool/engine/grpc/unary"
import { type CallError, internalError, toGrpcError } from "./errors.js"
import type { GrpcPoolImpl } from "./pool.js"

/** grpc-js's parts of unary calls, on this edition's copy of `@grpc/grpc-js` (the engine's). */
export const { UnaryCall, InterceptedUnaryCall, callOptionsOf, neverSent } = unaryCalls(grpc)
export type { Method } from "@effect-pool/engine/grpc/unary"

/**
 * A unary call on the least-loaded channel, sent once more elsewhere if it never left. Made on
 * the channel itself (`Channel.createCall`, what grpc-js's `Client` does underneath): the
 * `Client` layer's per-call objects (an EventEmitter, an interceptor chain, a captured stack)
 * cost a sixth of a call's CPU and nothing here needs them.
 */
export const unary = (impl: GrpcPoolImpl, method: Method, request: unknown, input: CallOptions | undefined): Effect.Effect<unknown, CallError> => {
  // every argument checked before anything is borrowed: nothing of the caller's can throw below
  const parsed = impl.parse(input)
  if (parsed._tag === "Left") return Effect.fail(parsed.left)
  const options = parsed.right
  const intercepted = options.interceptors !== undefined || options.providers !== undefined
  return Effect.async<unknown, CallError>((resume) => {
    // the attempt in progress: waiting for a channel, or a call on one (interruption cancels either)
    let cancelBorrow: (() => void) | undefined
    // interruption of the call in flight: cancels it and gives its slot back
    let abandon: (() => void) | undefined
    const attempt = (retried: boolean) => {
      abandon = undefined
      let waiting = true
      const cancel = impl.lend(options, (borrowed, failure) => {
        waiting = false
        cancelBorrow = undefined
        if (borrowed === undefined) return resume(Effect.failCause(failure!))
        const pooled = borrowed.value
        const giveBack = () => {
          if (borrowed.state !== "held") return false
          pooled.calls.delete(made)
          return true
        }
        const finished = (status: grpc.StatusObject, response: unknown) => {
          // inside a grpc-js callback: nothing may throw out of here
          if (!giveBack()) return
          try {
            impl.callEnded(pooled, status.code)
            // sent again once — or, for a call that waits for a connection, as often as it takes
            if (status.code !== grpc.status.OK && (!retried || (options.waitForReady ?? impl.waitForReady)) && neverSent(status)) {
              borrowed.invalidate()
              borrowed.return()
              impl.retries++
              return attempt(true)
            }
            borrowed.return()
          } catch (error) {
            return resume(Effect.fail(internalError(error)))
          }
          resume(status.code === grpc.status.OK ? Effect.succeed(response) : Effect.fail(toGrpcError(status)))
        }
        const made = intercepted
          ? new InterceptedUnaryCall(pooled, method, request, options, finished)
          : new UnaryCall(pooled, method.path, method.requestSerialize, method.responseDeserialize, request, options, finished)
        abandon = () => {
          made.cancel() // the server sees CANCELLED
          // now, not when grpc-js reports the status: it may never (an interceptor of the
          // caller's that never starts the call, or whose listener throws, swallows it)
          if (!giveBack()) return
          try {
            impl.callEnded(pooled, grpc.status.CANCELLED)
          } finally {
            borrowed.return()
          }
        }
        try {
          pooled.calls.add(made)
          made.send()
        } catch (error) {
          // a bug, not the caller's argument (those were checked): the slot comes back all the same
          made.cancel()
          if (giveBack()) {
            borrowed.return()
            resume(Effect.fail(internalError(error)))
          }
        }
      })
      // the callback may already have run, synchronously, inside unsafeBorrow
      if (waiting) cancelBorrow = cancel
    }
    attempt(false)
    return Effect.sync(() => {
      if (cancelBorrow !== undefined) cancelBorrow()
      else abandon?.()
    })
  })
}
