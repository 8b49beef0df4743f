/**
 * The worker pool's `atomics` option and the options of one `run` ({@link parseRunOptions}),
 * both editions. `atomics`: how an idle thread waits for its next task.
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
 * piscina's threads also read two environment variables, and so do ours (from the environment
 * the pool's threads start with: its `env` option, else the process's): `PISCINA_DISABLE_ATOMICS=1`
 * makes every mode `"disabled"` (it wins over `atomics`/`useAtomics`, as in piscina), and
 * `PISCINA_ENABLE_ASYNC_ATOMICS=1` makes `"sync"` `"async"`. Any other value leaves the mode as is.
 *
 * @example
 * ```ts
 * import { Options } from "@effect-pool/engine"
 * import { parkingOf, parseAtomics } from "@effect-pool/engine/worker/options"
 *
 * const checker = Options.makeChecker<number>({ decode: (input) => (typeof input === "number" ? input : undefined) })
 * const parsed = Options.checkWith(checker, (check) => parseAtomics(check, undefined, false))
 * if (parsed._tag === "Valid") console.log(parsed.value, parkingOf(parsed.value)) // disabled false
 * const fromEnv = Options.checkWith(checker, (check) => parseAtomics(check, "sync", undefined, { PISCINA_DISABLE_ATOMICS: "1" }))
 * if (fromEnv._tag === "Valid") console.log(fromEnv.value) // disabled
 * ```
 * @since 0.1.0
 */
import type { TransferListItem } from "node:worker_threads"
import type { Checker } from "../options.js"
import { describeValue } from "../options.js"

/** How an idle thread waits for its next task (piscina's `atomics`). */
export type AtomicsMode = "sync" | "async" | "disabled"

/** piscina's values of `atomics`. */
export const ATOMICS_VALUES: ReadonlyArray<AtomicsMode> = ["sync", "async", "disabled"]

/** The default: idle threads park (piscina's default too). */
export const DEFAULT_ATOMICS: AtomicsMode = "sync"

/** An environment variable set to piscina's "on" value, `1` (a thread's env values are strings; a number 1 becomes "1"). */
const switchedOn = (environment: Readonly<Record<string, unknown>> | undefined, name: string): boolean => {
  // an own property only: a polluted Object.prototype is no environment
  if (environment === undefined || !Object.hasOwn(environment, name)) return false
  const value = environment[name]
  return (typeof value === "string" || typeof value === "number") && String(value) === "1"
}

/**
 * The mode after piscina's environment variables, read from `environment` — the one the pool's
 * threads start with: `PISCINA_DISABLE_ATOMICS=1` is `"disabled"` whatever the option says,
 * `PISCINA_ENABLE_ASYNC_ATOMICS=1` turns `"sync"` into `"async"` (piscina's worker.ts reads both).
 */
export const atomicsInEnvironment = (mode: AtomicsMode, environment: Readonly<Record<string, unknown>> | undefined): AtomicsMode => {
  if (switchedOn(environment, "PISCINA_DISABLE_ATOMICS")) return "disabled"
  if (mode === "sync" && switchedOn(environment, "PISCINA_ENABLE_ASYNC_ATOMICS")) return "async"
  return mode
}

/**
 * Checks `atomics` and piscina 4's `useAtomics` (`true`: `"sync"`, `false`: `"disabled"`);
 * both given and disagreeing is an error naming `useAtomics`. `environment` is the one the
 * pool's threads start with (their `env` option, else the process's): piscina's
 * `PISCINA_DISABLE_ATOMICS` and `PISCINA_ENABLE_ASYNC_ATOMICS` apply after the options are
 * checked ({@link atomicsInEnvironment}).
 */
export const parseAtomics = (check: Checker<any>, atomics: unknown, useAtomics: unknown, environment?: Readonly<Record<string, unknown>> | undefined): AtomicsMode =>
  atomicsInEnvironment(parseAtomicsOption(check, atomics, useAtomics), environment)

const parseAtomicsOption = (check: Checker<any>, atomics: unknown, useAtomics: unknown): AtomicsMode => {
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

/** The options of one `WorkerPool.run`, checked: the export, the timeout (ms, `Infinity`: none), what to transfer. */
export interface RunOptions {
  readonly name: string | undefined
  readonly timeout: number
  readonly transfer: ReadonlyArray<TransferListItem> | undefined
}

/** The keys of `WorkerPool.run`'s options. */
export const RUN_OPTION_KEYS: ReadonlyArray<string> = ["transfer", "name", "timeout"]

const isDetached = (buffer: ArrayBuffer): boolean => {
  try {
    new Uint8Array(buffer)
    return false
  } catch {
    return true
  }
}

/**
 * Checks the options of one `WorkerPool.run` (both editions; the edition turns a failure into
 * its `TaskInputError` naming the option), before anything is borrowed. `undefined` or `null`
 * options, and an option given as `null`, are not given — as every option of this repo's
 * packages (grpc's `waitForReady: null` is the pool's): `timeout: null` is the pool's
 * `taskTimeout` (`poolTimeout`, ms), not "no timeout". `timeout` is a duration > 0 as the
 * edition's checker reads it: one Effect rounds to 0 ns (`1e-9`) is one nanosecond, `Infinity`
 * and the string `"Infinity"` are none.
 */
export const parseRunOptions = (check: Checker<any>, options: unknown, poolTimeout: number): RunOptions => {
  if (options === undefined || options === null) return { name: undefined, timeout: poolTimeout, transfer: undefined }
  // every option read once, into a copy (a getter or Proxy of the caller's that throws is that
  // option's error, never a defect)
  const o = check.record("options", options)!
  for (const key of Object.keys(o)) {
    if (RUN_OPTION_KEYS.includes(key) || o[key] === undefined) continue
    const hint = key === "signal"
      ? "; cancel a task by interrupting its fiber (e.g. Effect.timeout, Effect.race, Fiber.interrupt)"
      : ""
    check.fail(key, `is not a run option (transfer, name, timeout)${hint}`)
  }
  let transfer: ReadonlyArray<TransferListItem> | undefined
  if (o.transfer != null) {
    if (!Array.isArray(o.transfer)) {
      check.fail("transfer", `must be an array of transferable objects, got ${describeValue(o.transfer)}`)
    }
    try {
      transfer = Array.from(o.transfer as ReadonlyArray<TransferListItem>)
    } catch {
      check.fail("transfer", "could not be read (an element's getter or the array's Proxy threw)")
    }
  }
  const name = o.name ?? undefined
  if (name !== undefined && (typeof name !== "string" || name.trim() === "")) {
    check.fail("name", `must be the name of an export, got ${describeValue(name)}`)
  }
  if (transfer !== undefined) {
    for (const item of transfer) {
      if (item instanceof ArrayBuffer && isDetached(item)) check.fail("transfer", "holds an ArrayBuffer that is already detached (transferred before)")
    }
  }
  const timeout = o.timeout == null ? poolTimeout : check.duration("timeout", o.timeout, Infinity, { zero: "reject", infinity: "none" })
  return { name: name as string | undefined, timeout, transfer }
}
