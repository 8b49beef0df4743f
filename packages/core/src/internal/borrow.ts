/**
 * The two ways to borrow from one pool shell, shared by `Pool` and `KeyedPool`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { PoolShell } from "./shell.js"
import type * as State from "@effect-pool/engine/state"

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/** Borrow until the enclosing scope closes; the return goes through `recycle`. */
export const get = <A, E>(shell: PoolShell<A, E>): Effect.Effect<A, unknown, Scope.Scope> => {
  const site = shell.borrowSite()
  return Effect.flatMap(Effect.scope, (scope) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        shell.borrow(restore, site),
        // the scope is the caller's: the item goes back exactly when it closes
        (item) => Effect.as(Scope.addFinalizerExit(scope, (exit) => shell.release(item, exit)), item.value)
      )
    ))
}

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
 * Runs `f` on the item (interruptibly, through `restore`) and returns the item when it ends. A
 * callback that throws instead of returning an Effect is a defect of this use — its item goes
 * back like after any other failure (it used to stay borrowed, and close waited shutdownTimeout).
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
  return Effect.matchCauseEffect(body, {
    onFailure: (cause) => returned(shell, item, Exit.failCause(cause)),
    onSuccess: (value) => returned(shell, item, Exit.succeed(value))
  })
}

/** Returns the item (through `recycle` only when it has something to do), then ends as `exit`. */
const returned = <A, E, X, Y>(shell: PoolShell<A, E>, item: State.Item<A>, exit: Exit.Exit<X, Y>): Effect.Effect<X, Y> => {
  const recycling = shell.recycling(item, exit)
  if (recycling === undefined) {
    shell.releaseNow(item)
    return exit
  }
  return Effect.zipRight(recycling, exit)
}
