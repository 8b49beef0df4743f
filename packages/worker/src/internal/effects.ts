/**
 * The worker side's Effect 3 runtime (the engine runner's `EffectsModule`, named in its
 * settings by ./pool.ts), loaded only by handlers that return an `Effect` or are made
 * with `WorkerPool.handler`: runs a task's Effect as a fiber that the pool can interrupt, builds a
 * handler's layer once per thread, and decodes/encodes through its Schemas.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type { HandlerMark, Running } from "@effect-pool/engine/worker/protocol"
import type { HandlerDefinition } from "./handler.js"

const fork = <R>(runtime: Runtime.Runtime<R>, effect: Effect.Effect<unknown, unknown, R>): Running => {
  const fiber = Runtime.runFork(runtime)(effect)
  const promise: Running = new Promise((resolve, reject) =>
    fiber.addObserver((exit) => {
      if (Exit.isSuccess(exit)) resolve(exit.value)
      else reject(Cause.isInterruptedOnly(exit.cause) ? new Error("interrupted") : Cause.squash(exit.cause))
    })
  )
  promise.interrupt = () => fiber.unsafeInterruptAsFork(FiberId.none)
  return promise
}

/** Runs the Effect a plain handler returned. */
export const runTask = (effect: unknown): Running => fork(Runtime.defaultRuntime, effect as Effect.Effect<unknown, unknown>)

const toEffect = (output: unknown): Effect.Effect<unknown, unknown> => {
  if (Effect.isEffect(output)) return output as Effect.Effect<unknown, unknown>
  if (output !== null && typeof output === "object" && typeof (output as PromiseLike<unknown>).then === "function") {
    return Effect.tryPromise({ try: () => output as PromiseLike<unknown>, catch: (error) => error })
  }
  return Effect.succeed(output)
}

/** Prepares a `WorkerPool.handler` definition: builds its layer (a failure is a start-up error). */
export const make = async (mark: HandlerMark): Promise<(input: unknown, context: { readonly signal: AbortSignal }) => Running> => {
  const definition = mark as HandlerDefinition
  const runtime = definition.layer === undefined
    ? Runtime.defaultRuntime
    : await ManagedRuntime.make(definition.layer).runtime()
  const decode = definition.input === undefined ? Effect.succeed : Schema.decodeUnknown(definition.input)
  const encode = definition.output === undefined ? Effect.succeed : Schema.encode(definition.output)
  return (input, context) =>
    fork(runtime as Runtime.Runtime<unknown>, Effect.flatMap(Effect.flatMap(decode(input), (decoded) => toEffect(definition.f(decoded, context))), encode))
}
