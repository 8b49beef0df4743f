/**
 * The worker pool's `atomics` option, both editions: how an idle thread waits for its next task.
 * piscina's name and values (`"sync"` | `"async"` | `"disabled"`, piscina 5) and piscina 4's
 * `useAtomics: boolean`, checked with the edition's checker (no `effect` import).
 *
 * - `"sync"` (the default): an idle thread parks in `Atomics.wait`, woken by the main side's
 *   `Atomics.notify`, and takes the next task in the same tick (no event-loop wake-up per task).
 *   Bounded here (see the runner): timers and I/O a task left behind run late by at most ~2 ms.
 * - `"disabled"`: a thread never blocks; it waits for tasks in its event loop.
 * - `"async"`: piscina waits with `Atomics.waitAsync` so that a thread's open handles keep
 *   running between tasks; a thread here waits in its event loop, which keeps them running just
 *   the same: it behaves as `"disabled"`.
 *
 * @example
 * ```ts
 * import { Options } from "@effect-pool/engine"
 * import { parkingOf, parseAtomics } from "@effect-pool/engine/worker/options"
 *
 * const checker = Options.makeChecker<number>({ decode: (input) => (typeof input === "number" ? input : undefined) })
 * const parsed = Options.checkWith(checker, (check) => parseAtomics(check, undefined, false))
 * if (parsed._tag === "Valid") console.log(parsed.value, parkingOf(parsed.value)) // disabled false
 * ```
 * @since 0.1.0
 */
import type { Checker } from "../options.js"
import { describeValue } from "../options.js"

/** How an idle thread waits for its next task (piscina's `atomics`). */
export type AtomicsMode = "sync" | "async" | "disabled"

/** piscina's values of `atomics`. */
export const ATOMICS_VALUES: ReadonlyArray<AtomicsMode> = ["sync", "async", "disabled"]

/** The default: idle threads park (piscina's default too). */
export const DEFAULT_ATOMICS: AtomicsMode = "sync"

/**
 * Checks `atomics` and piscina 4's `useAtomics` (`true`: `"sync"`, `false`: `"disabled"`);
 * both given and disagreeing is an error naming `useAtomics`.
 */
export const parseAtomics = (check: Checker<any>, atomics: unknown, useAtomics: unknown): AtomicsMode => {
  const mode = check.oneOf("atomics", atomics, DEFAULT_ATOMICS, ATOMICS_VALUES)
  if (useAtomics === undefined || useAtomics === null) return mode // null: absent, as for every option
  if (typeof useAtomics !== "boolean") {
    check.fail("useAtomics", `must be true or false (piscina 4's name; piscina 5 and ours: atomics: "sync" | "async" | "disabled"), got ${describeValue(useAtomics)}`)
  }
  const implied: AtomicsMode = useAtomics ? "sync" : "disabled"
  if (atomics === undefined || atomics === null) return implied
  if ((mode === "sync") !== useAtomics) {
    check.fail("useAtomics", `is piscina 4's name for atomics, which is also given (${describeValue(atomics)}) and disagrees: give atomics only`)
  }
  return mode
}

/** Whether threads in this mode park in `Atomics.wait` between tasks (only `"sync"`). */
export const parkingOf = (mode: AtomicsMode): boolean => mode === "sync"
