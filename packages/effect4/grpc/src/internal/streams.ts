/**
 * Streaming calls (server, client, bidi) through the channel's `Client`: responses as a Stream
 * with back-pressure, requests written with back-pressure, the call cancelled when its Stream or
 * fiber ends first.
 *
 * @internal
 */
import type * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type CallbackOutcome, listenGuarded } from "@effect-pool/engine/grpc/callOptions"
import type { CallOptions, ParsedCall } from "./callOptions.js"
import type { PooledChannel } from "@effect-pool/engine/grpc/channel"
import { type CallError, callbackFailed, interceptorError, requestWriteFailed, toGrpcError } from "./errors.js"
import type { GrpcPoolImpl } from "./pool.js"
import { callOptionsOf, type Method } from "./unary.js"

/**
 * A streaming call's `metadata` and `status` events to the user's callbacks, guarded (the
 * engine's `listenGuarded`): a callback that throws fails the call CANCELLED "onStatus threw: …"
 * (one from `onMetadata` cancels it too), never throws into grpc-js.
 */
const listen = (call: grpc.ClientReadableStream<unknown> | grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, options: ParsedCall): CallbackOutcome =>
  listenGuarded(call, options)

/**
 * A call's responses as a Stream with back-pressure: the call is paused while the stream's
 * buffer is full and resumed as it drains.
 */
const responses = (call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, callbacks: CallbackOutcome, written: WriteOutcome): Stream.Stream<unknown, CallError> =>
  Stream.callback<unknown, CallError>((queue) =>
    Effect.sync(() => {
      // offers waiting for room in the queue, in order; the call is paused while there are any
      let waiting = 0
      call.on("data", (message: unknown) => {
        if (waiting === 0 && Queue.offerUnsafe(queue, message)) return
        waiting++
        if (!call.isPaused()) call.pause()
        Effect.runFork(Queue.offer(queue, message)).addObserver(() => {
          if (--waiting === 0 && call.isPaused()) call.resume()
        })
      })
      // the end (or the failure) after the offers still waiting: behind the last message
      const finish = (done: () => void) => {
        const attempt = (): void => (waiting === 0 ? done() : void setImmediate(attempt))
        attempt()
      }
      // a user's callback that threw fails the call (status is emitted before the end)
      const failed = () => (callbacks.details === undefined ? undefined : callbackFailed(callbacks.details))
      call.on("error", (error: grpc.ServiceError) =>
        finish(() => {
          // the writer's failure (a failing request Stream, a message not written) cancelled the call
          if (written.cause !== undefined) return void Queue.failCauseUnsafe(queue, written.cause)
          Queue.failCauseUnsafe(queue, Cause.fail(failed() ?? toGrpcError(error)))
        }))
      call.on("end", () =>
        finish(() => {
          const failure = failed()
          if (failure === undefined) Queue.endUnsafe(queue)
          else Queue.failCauseUnsafe(queue, Cause.fail(failure))
        }))
    }), { bufferSize: 32 })

/** What a call's writer failed with (its request Stream's error, a message not written): the call's failure. */
interface WriteOutcome {
  cause: Cause.Cause<CallError> | undefined
}

/** A call whose responses are a stream (server streaming, bidi), cancelled when the stream is. */
export const streamed = (impl: GrpcPoolImpl, input: CallOptions | undefined, open: (pooled: PooledChannel, options: ParsedCall) => grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, writer?: (call: grpc.ClientDuplexStream<unknown, unknown>) => Effect.Effect<void, CallError, Scope.Scope>): Stream.Stream<unknown, CallError> => {
  const parsed = impl.parse(input)
  if (parsed._tag === "Failure") return Stream.fail(parsed.failure)
  const options = parsed.success
  return Stream.unwrap(Effect.gen(function*() {
    const pooled = yield* impl.borrowFor(options)
    // an interceptor (or its provider) may throw as the call is made: the call's failure
    const call = yield* Effect.try({ try: () => open(pooled, options), catch: interceptorError })
    const callbacks = listen(call, options)
    pooled.calls.add(call)
    // the call is cancelled if the stream ends before the server does (the server sees CANCELLED)
    let ended = false
    call.on("status", (status: grpc.StatusObject) => {
      ended = true
      impl.callEnded(pooled, status.code)
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => {
      pooled.calls.delete(call)
      if (!ended) call.cancel()
    }))
    const written: WriteOutcome = { cause: undefined }
    if (writer !== undefined) {
      // a writer that fails cancels the call, which fails with the writer's error
      yield* Effect.forkScoped(writer(call as grpc.ClientDuplexStream<unknown, unknown>).pipe(Effect.catchCause((cause) =>
        Effect.sync(() => {
          if (Cause.hasInterruptsOnly(cause) || ended) return
          written.cause = cause
          call.cancel()
        })
      )))
    }
    return responses(call, callbacks, written)
  }))
}

/** Writes `requests` to a call with back-pressure (waits for 'drain'), then ends it. */
export const writeAll = (requests: Stream.Stream<unknown, CallError>, call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Effect.Effect<void, CallError> => {
  const write = (message: unknown) =>
    Effect.callback<void, CallError>((resume) => {
      // Node's stream refuses some values at once (null: "May not write null values to stream"):
      // the call's failure, INTERNAL as grpc-js's for a message that does not serialize
      let ready: boolean
      try {
        ready = call.write(message)
      } catch (error) {
        return resume(Effect.fail(requestWriteFailed(error)))
      }
      if (ready) return resume(Effect.void)
      call.once("drain", () => resume(Effect.void))
    })
  return Stream.runForEach(requests, write).pipe(Effect.andThen(Effect.sync(() => call.end())))
}

/** A client-streaming call: `requests` written with back-pressure, one response. */
export const clientStream = (impl: GrpcPoolImpl, method: Method, requests: Stream.Stream<unknown, CallError>, input: CallOptions | undefined): Effect.Effect<unknown, CallError> => {
  const parsed = impl.parse(input)
  if (parsed._tag === "Failure") return Effect.fail(parsed.failure)
  const options = parsed.success
  return Effect.scoped(Effect.gen(function*() {
    const pooled = yield* impl.borrowFor(options)
    let settle: ((exit: Exit.Exit<unknown, CallError>) => void) | undefined
    let result: Exit.Exit<unknown, CallError> | undefined
    // the callback's outcome, until the status event settles the call
    let outcome: Exit.Exit<unknown, CallError> | undefined
    const call = yield* Effect.try({
      try: () =>
        pooled.client.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, options.metadata, callOptionsOf(method, options), (error, response) => {
          // settled on the status event, after the user's onStatus (grpc-js emits it right after this)
          if (result === undefined) outcome = error === null ? Exit.succeed(response) : Exit.fail(toGrpcError(error))
        }),
      catch: interceptorError
    })
    const callbacks = listen(call, options)
    pooled.calls.add(call)
    call.on("status", (status: grpc.StatusObject) => {
      impl.callEnded(pooled, status.code)
      if (result !== undefined) return
      // onMetadata's throw over the CANCELLED it caused; a failure the server sent over onStatus's throw
      const serverFailed = outcome !== undefined && Exit.isFailure(outcome) && callbacks.by === "onStatus"
      result = callbacks.details !== undefined && !serverFailed ? Exit.fail(callbackFailed(callbacks.details)) : outcome ?? Exit.fail(toGrpcError(status))
      settle?.(result)
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => pooled.calls.delete(call)))
    // the request Stream may never end: the call's outcome (response, status, deadline,
    // interruption) ends the writer, never the other way round
    const writer = yield* Effect.forkScoped(writeAll(requests, call).pipe(
      Effect.catchCause((cause) =>
        Effect.sync(() => {
          // a failing request Stream fails the call with its own error (the call was cancelled)
          if (result === undefined && !Cause.hasInterruptsOnly(cause)) {
            result = Exit.failCause(cause)
            settle?.(result)
            call.cancel()
          }
        })
      )
    ))
    return yield* Effect.callback<unknown, CallError>((resume) => {
      if (result !== undefined) return resume(result)
      settle = resume
      return Effect.sync(() => call.cancel())
    }).pipe(Effect.onExit(() => Fiber.interrupt(writer)))
  }))
}
