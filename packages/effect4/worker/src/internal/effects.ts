/**
 * The worker side's Effect 4 runtime (the engine runner's `EffectsModule`, named in its
 * settings by ./pool.ts), loaded only by handlers that return an `Effect` or are made
 * with `WorkerPool.handler`: runs a task's Effect as a fiber that the pool can interrupt, builds a
 * handler's layer once per thread, and decodes/encodes through its Schemas.
 *
 * A worker file of this edition imports Effect 4: its Effects are run here, by the same `effect`
 * the pool resolves (the runner imports this module by the path the pool sends).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import type { HandlerMark, Running } from "@effect-pool/engine/worker/protocol"
import type { HandlerDefinition } from "./handler.js"

const fork = (context: Context.Context<never> | undefined, effect: Effect.Effect<unknown, unknown>): Running => {
  const fiber = context === undefined ? Effect.runFork(effect) : Effect.runForkWith(context)(effect)
  const promise: Running = new Promise((resolve, reject) =>
    fiber.addObserver((exit) => {
      if (Exit.isSuccess(exit)) resolve(exit.value)
      else reject(Cause.hasInterruptsOnly(exit.cause) ? new Error("interrupted") : Cause.squash(exit.cause))
    })
  )
  promise.interrupt = () => fiber.interruptUnsafe()
  return promise
}

/** Runs the Effect a plain handler returned. */
export const runTask = (effect: unknown): Running => fork(undefined, effect as Effect.Effect<unknown, unknown>)

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
  const context = definition.layer === undefined
    ? undefined
    : (await ManagedRuntime.make(definition.layer).context()) as Context.Context<never>
  const decode: (input: unknown) => Effect.Effect<unknown, unknown> = definition.input === undefined
    ? Effect.succeed
    : Schema.decodeUnknownEffect(definition.input)
  const encode: (output: unknown) => Effect.Effect<unknown, unknown> = definition.output === undefined
    ? Effect.succeed
    : Schema.encodeUnknownEffect(definition.output)
  return (input, taskContext) =>
    fork(context, Effect.flatMap(Effect.flatMap(decode(input), (decoded) => toEffect(definition.f(decoded, taskContext))), encode))
}
