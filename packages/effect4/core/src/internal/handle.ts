/**
 * The kind-facing handle of one pooled item (`Pool.ItemHandle`) and the value index: the
 * engine's (`@effect-pool/engine/handle`), with this edition's item scope.
 *
 * @internal
 */
import * as Handle from "@effect-pool/engine/handle"
import type * as State from "@effect-pool/engine/state"
import type * as Scope from "effect/Scope"

export type { HandleOwner } from "@effect-pool/engine/handle"
export { ValueIndex } from "@effect-pool/engine/handle"

/** The engine's handle; its scope is this edition's `Scope.Closeable`. */
export class ItemHandleImpl<A> extends Handle.ItemHandleImpl<A, Scope.Closeable> {}

/** The handle of an item (every item the shell creates has one). */
export const handleOf = <A>(item: State.Item<A>): ItemHandleImpl<A> => item.handle as ItemHandleImpl<A>
