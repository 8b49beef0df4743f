/**
 * The kind-facing handle of one pooled item (`Pool.ItemHandle`) and the value index: the
 * engine's (`@effect-pool/engine/handle`), with this edition's item scope.
 *
 * @internal
 */
import * as Handle from "@effect-pool/engine/handle"
import type * as State from "@effect-pool/engine/state"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"

export type { HandleOwner } from "@effect-pool/engine/handle"
export { ValueIndex } from "@effect-pool/engine/handle"

/** The engine's handle; its scope is this edition's `Scope.Closeable`. */
export class ItemHandleImpl<A> extends Handle.ItemHandleImpl<A, Scope.Closeable> {
  /**
   * `Pool.get`'s per-item constants, made at the item's first `get` and reused by every later
   * one, so a borrow allocates no Effect: the finalizer that returns the item when the borrower's
   * scope closes, and the exit that hands the value over.
   */
  release: ((exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>) | undefined = undefined
  lent: Exit.Exit<A> | undefined = undefined
}

/** The handle of an item (every item the shell creates has one). */
export const handleOf = <A>(item: State.Item<A>): ItemHandleImpl<A> => item.handle as ItemHandleImpl<A>
