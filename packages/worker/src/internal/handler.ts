/**
 * What `WorkerPool.handler` makes: a handler with services and Schemas, recognised by the worker
 * runner by its type id. Type-only imports of Effect: the runner loads `effect` only for these.
 *
 * @internal
 */
import type * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"

export const HandlerTypeId: unique symbol = Symbol.for("@effect-pool/worker/Handler") as any

export interface HandlerDefinition {
  readonly [HandlerTypeId]: typeof HandlerTypeId
  readonly layer: Layer.Layer<any, any, never> | undefined
  readonly input: Schema.Schema<any, any, never> | undefined
  readonly output: Schema.Schema<any, any, never> | undefined
  readonly f: (input: any, context: { readonly signal: AbortSignal }) => unknown
}
