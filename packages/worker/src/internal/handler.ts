/**
 * What `WorkerPool.handler` makes: a handler with services and Schemas, recognised by the
 * engine's worker runner by its mark (`HandlerTypeId`) and run by ./effects.ts in the thread.
 * Type-only imports of Effect.
 *
 * @internal
 */
import { type HandlerMark, HandlerTypeId } from "@effect-pool/engine/worker/protocol"
import type * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"

export { HandlerTypeId }

export interface HandlerDefinition extends HandlerMark {
  readonly layer: Layer.Layer<any, any, never> | undefined
  readonly input: Schema.Schema<any, any, never> | undefined
  readonly output: Schema.Schema<any, any, never> | undefined
  readonly f: (input: any, context: { readonly signal: AbortSignal }) => unknown
}
