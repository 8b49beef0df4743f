/**
 * A user's callback as a pool calls it. `validate`, `recycle`, `healthCheck.check` and the like
 * are meant to return an Effect, but a plain JavaScript `throw` in one ends it before any Effect
 * exists: called bare from a pool's borrow or return path, the throw left the item borrowed
 * forever. `guard` turns that throw into what the edition makes of a failed callback (an
 * `Effect.die` of the thrown value), so the pool treats it exactly as that callback failing.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-pool/engine"
 *
 * const onFailure = (): "evict" | "suspend" => {
 *   throw new Error("oops")
 * }
 * const decide = Callback.guard(onFailure, () => "evict" as const)
 * console.log(decide()) // "evict"
 * ```
 * @since 0.1.0
 */

/** `f`, except that a synchronous throw returns `onThrow(thrown)` instead of propagating. */
export const guard = <Args extends ReadonlyArray<unknown>, R, T>(
  f: (...args: Args) => R,
  onThrow: (thrown: unknown) => T
): ((...args: Args) => R | T) =>
(...args) => {
  try {
    return f(...args)
  } catch (thrown) {
    return onThrow(thrown)
  }
}

/**
 * `healthCheck.onFailure` as a predicate: does this failure suspend the item (rather than evict
 * it)? A function of the user's that throws evicts, the default.
 */
export const suspendsOn = (
  onFailure: "evict" | "suspend" | ((error: unknown) => "evict" | "suspend")
): ((error: unknown) => boolean) => {
  if (onFailure === "evict") return () => false
  if (onFailure === "suspend") return () => true
  const decide = guard(onFailure, () => "evict" as const)
  return (error) => decide(error) === "suspend"
}
