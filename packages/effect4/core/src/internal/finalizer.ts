/**
 * Registers a finalizer on a scope synchronously — what Effect 4's own `Pool.get` does with its
 * internal `scopeAddFinalizerUnsafe`, which `effect` does not export. It follows the public model
 * of `Scope.State` (`Empty` → `Open` with one finalizer → `Open` with a map of them), the same
 * transitions as `Scope.addFinalizerExit`, without allocating an Effect per registration.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"

/**
 * Adds `finalizer` under `key` (unique per registration) to an open or empty `scope`. Returns
 * `false`, registering nothing, when the scope is closed already: the caller then takes the
 * effectful path (`Scope.addFinalizerExit`, which runs the finalizer at once).
 */
export const addFinalizerUnsafe = (
  scope: Scope.Scope,
  key: {},
  finalizer: (exit: Exit.Exit<any, any>) => Effect.Effect<void>
): boolean => {
  const state = scope.state
  switch (state._tag) {
    case "Empty": {
      scope.state = { _tag: "Open", finalizerKey: key, finalizer, finalizers: undefined }
      return true
    }
    case "Open": {
      if (state.finalizer !== undefined) {
        state.finalizers = new Map([[state.finalizerKey!, state.finalizer]])
        state.finalizerKey = undefined
        state.finalizer = undefined
      }
      state.finalizers!.set(key, finalizer)
      return true
    }
    default:
      return false
  }
}
