/**
 * The two ways to borrow from one pool shell, shared by `Pool` and `KeyedPool`.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { addFinalizerUnsafe } from "./finalizer.js"
import { handleOf } from "./handle.js"
import type { PoolShell } from "./shell.js"
import type * as State from "@effect-pool/engine/state"

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/**
 * Borrow until the enclosing scope closes; the return goes through `recycle`.
 *
 * The fast path — an idle item that needs no validation — is one synchronous step, as Effect 4's
 * own `Pool.get`: take the item, register its (per-item, reused) release on the caller's scope,
 * hand over its (per-item, reused) exit. Nothing can interrupt between the take and the
 * registration, so no `uninterruptibleMask` is needed, and no Effect is allocated per borrow.
 * Everything else (waiting, validation, a closed scope) takes the masked path.
 */
export const get = <A, E>(shell: PoolShell<A, E>): Effect.Effect<A, unknown, Scope.Scope> => {
  const site = shell.borrowSite()
  return Effect.withFiber((fiber) => {
    // the scope is the caller's: the item goes back exactly when it closes
    const scope = Context.getUnsafe(fiber.context as Context.Context<Scope.Scope>, Scope.Scope)
    // with `validate`, a taken item may need a check (an Effect): take it inside the mask
    if (shell.lifecycle.validate !== undefined || scope.state._tag === "Closed") return masked(shell, scope, site)
    const item = shell.tryTake(site)
    if (item === undefined) return masked(shell, scope, site)
    const handle = handleOf(item)
    addFinalizerUnsafe(scope, {}, handle.release ?? (handle.release = releaser(shell, item)))
    return handle.lent ?? (handle.lent = Exit.succeed(item.value))
  })
}

/** `get`'s slow path: wait for an item (or validate one) interruptibly, the rest not. */
const masked = <A, E>(shell: PoolShell<A, E>, scope: Scope.Scope, site: Error | undefined): Effect.Effect<A, unknown> =>
  Effect.uninterruptibleMask((restore) => {
    const item = shell.tryTake(site)
    if (item !== undefined && !shell.needsValidation(item)) return held(shell, scope, item)
    return Effect.flatMap(shell.borrowFrom(item, restore, site), (item) => held(shell, scope, item))
  })

/** The item lent until `scope` closes (a closed scope returns it at once). */
const held = <A, E>(shell: PoolShell<A, E>, scope: Scope.Scope, item: State.Item<A>): Effect.Effect<A> => {
  const handle = handleOf(item)
  return Effect.as(Scope.addFinalizerExit(scope, handle.release ?? (handle.release = releaser(shell, item))), item.value)
}

/**
 * The finalizer that returns `item` when a borrower's scope closes: through `recycle` when it has
 * work to do, else one synchronous return whose Effect is made once per item.
 */
const releaser = <A, E>(shell: PoolShell<A, E>, item: State.Item<A>): (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void> => {
  const plain = Effect.sync(() => shell.releaseNow(item))
  return (exit) => shell.recycling(item, exit) ?? plain
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
