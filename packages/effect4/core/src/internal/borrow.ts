/**
 * The two ways to borrow from one pool shell, shared by `Pool` and `KeyedPool`.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { PoolShell } from "./shell.js"
import type * as State from "@effect-pool/engine/state"

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/** Borrow until the enclosing scope closes; the return goes through `recycle`. */
export const get = <A, E>(shell: PoolShell<A, E>): Effect.Effect<A, unknown, Scope.Scope> => {
  const site = shell.borrowSite()
  return Effect.uninterruptibleMask((restore) =>
    Effect.withFiber((fiber) => {
      // the scope is the caller's: the item goes back exactly when it closes
      const scope = Context.getUnsafe(fiber.context as Context.Context<Scope.Scope>, Scope.Scope)
      const item = shell.tryTake(site)
      if (item !== undefined && !shell.needsValidation(item)) return held(shell, scope, item)
      return Effect.flatMap(shell.borrowFrom(item, restore, site), (item) => held(shell, scope, item))
    })
  )
}

/** The item lent until `scope` closes. */
const held = <A, E>(shell: PoolShell<A, E>, scope: Scope.Scope, item: State.Item<A>): Effect.Effect<A> =>
  Effect.as(Scope.addFinalizerExit(scope, (exit) => shell.release(item, exit)), item.value)

/** Borrow around one effect. The fast path: an idle item is taken synchronously. */
export const use = <A, E, X, Y, Z>(
  shell: PoolShell<A, E>,
  f: (item: A) => Effect.Effect<X, Y, Z>
): Effect.Effect<X, unknown, Z> => {
  const site = shell.borrowSite()
  return Effect.uninterruptibleMask((restore) => {
    const item = shell.tryTake(site)
    if (item !== undefined && !shell.needsValidation(item)) return useItem(shell, item, f, restore)
    return Effect.flatMap(shell.borrowFrom(item, restore, site), (item) => useItem(shell, item, f, restore))
  })
}

/**
 * Runs `f` on the item (interruptibly, through `restore`) and returns the item when it ends, with
 * `f`'s own exit: Effect 4's `onExitPrimitive` hands that exit over as it is — no matcher, no
 * exit rebuilt per borrow — and skips the finalizer effect entirely when there is nothing to
 * recycle (the return is then a plain synchronous call).
 */
const useItem = <A, E, X, Y, Z>(
  shell: PoolShell<A, E>,
  item: State.Item<A>,
  f: (item: A) => Effect.Effect<X, Y, Z>,
  restore: Restore
): Effect.Effect<X, Y, Z> => {
  let body: Effect.Effect<X, Y, Z>
  try {
    body = restore(f(item.value))
  } catch (defect) {
    body = Effect.die(defect)
  }
  return Effect.onExitPrimitive(body, (exit) => returned(shell, item, exit))
}

/** Returns the item: `undefined` when that was done synchronously, else the recycling effect. */
const returned = <A, E>(shell: PoolShell<A, E>, item: State.Item<A>, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
  const recycling = shell.recycling(item, exit)
  if (recycling === undefined) shell.releaseNow(item)
  return recycling
}
