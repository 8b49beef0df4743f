/**
 * The messages between a worker pool (main side) and its threads, and how errors cross the
 * thread boundary. Plain data, no Effect import: every edition's worker pool speaks it.
 *
 * One `postMessage` each way per task, on the worker's own port (no channel per task).
 *
 * @example
 * ```ts
 * import { deserializeError, serializeError } from "@effect-pool/engine/worker/protocol"
 *
 * const error = deserializeError(serializeError(Object.assign(new RangeError("too big"), { code: 7 })))
 * console.log(error.name, error.message, (error as Error & { code: number }).code) // RangeError too big 7
 * ```
 * @since 0.1.0
 */

/**
 * The mark of a handler that needs the edition's Effect runtime in the thread (`WorkerPool.handler`
 * of either edition): the runner hands such an export to the `effects` module named in
 * {@link RunnerSettings}.
 */
export const HandlerTypeId: unique symbol = Symbol.for("@effect-pool/worker/Handler") as any

/** A handler made by an edition's `WorkerPool.handler` (its other fields are the edition's). */
export interface HandlerMark {
  readonly [HandlerTypeId]: typeof HandlerTypeId
}

/** A task running on an edition's Effect runtime: a promise of its value that can be interrupted. */
export type Running = Promise<unknown> & { interrupt?: () => void }

/**
 * What the module named by {@link RunnerSettings.effects} exports: an edition's Effect runtime
 * for the thread, loaded only by the first task that needs it.
 */
export interface EffectsModule {
  /** Runs the Effect a plain handler returned. */
  readonly runTask: (effect: unknown) => Running
  /** Prepares a marked handler (builds its services once per thread; a failure is a start-up error). */
  readonly make: (definition: HandlerMark) => Promise<(input: unknown, context: { readonly signal: AbortSignal }) => Running>
}

/** Whether `value` is an Effect of either major (Effect 3's symbol, Effect 4's string key). */
export const isEffect = (value: unknown): boolean =>
  typeof value === "object" && value !== null && (Symbol.for("effect/Effect") in value || "~effect/Effect" in value)

/** The worker's settings, sent with its port in its first message (`workerData` and `argv` stay the user's). */
export interface RunnerSettings {
  /** The handler module, as a `file:` URL. */
  readonly module: string
  /** The export used when a task names none. */
  readonly name: string
  /** `name` was given: a module without that export fails the thread's start (else only the tasks that use it fail). */
  readonly explicitName: boolean
  /** Report the heap used with every reply (for `maxHeapUsedBeforeRecycle`). */
  readonly reportHeap: boolean
  /** The edition's {@link EffectsModule}, as a `file:` URL: imported by the first task that returns an Effect or is a marked handler. */
  readonly effects: string
  /**
   * An idle thread parks in `Atomics.wait` for its next task (the pool's `atomics: "sync"`, see
   * `./options`); `false`: it never blocks, it waits in its event loop. [true]
   */
  readonly park?: boolean | undefined
}

/** main → worker, once on `parentPort`: the port tasks come on, and the settings. */
export interface StartMessage {
  readonly port: import("node:worker_threads").MessagePort
  readonly settings: RunnerSettings
  /**
   * The wake-up word (`Int32Array` over a `SharedArrayBuffer`, index {@link WAKE_POSTED}): the main
   * side adds 1 and `Atomics.notify`s after every message it posts, so that an idle thread parked
   * in `Atomics.wait` (as piscina's are) takes its next task without an event-loop wake-up.
   * The thread counts at {@link WAKE_PARKED} the tasks it took while parked. Absent when the
   * thread does not park (`RunnerSettings.park` false).
   */
  readonly wake?: Int32Array | undefined
}

/** Index in {@link StartMessage.wake} of the count of messages the main side has posted. */
export const WAKE_POSTED = 0
/** Index in {@link StartMessage.wake} of the count of tasks the thread took while parked (it adds, the main side reads). */
export const WAKE_PARKED = 1
/** Length of {@link StartMessage.wake} (in 32-bit words). */
export const WAKE_WORDS = 2

/** main → worker: run a task. */
export interface TaskMessage {
  readonly id: number
  readonly input: unknown
  /** The export to run (the pool's `name` when absent). */
  readonly name?: string | undefined
}

/** main → worker: stop task `cancel` (abort its signal, interrupt its Effect). */
export interface CancelMessage {
  readonly cancel: number
}

/** worker → main, once: the module is loaded (or failed to load). */
export interface ReadyMessage {
  readonly ready: true
  readonly error?: SerializedError | undefined
}

/** worker → main: how task `id` ended. */
export interface ReplyMessage {
  readonly id: number
  /** 0: succeeded with `value`; 1: failed with `error`; 2: cancelled. */
  readonly status: 0 | 1 | 2
  readonly value?: unknown
  readonly error?: SerializedError | undefined
  /** Heap used after the task (bytes), when the pool asked for it. */
  readonly heap?: number | undefined
}

/** An error as it crosses the thread: its name, message, stack and own fields. */
export interface SerializedError {
  readonly name: string
  readonly message: string
  readonly stack?: string | undefined
  /** Own enumerable fields (e.g. `code`, a tagged error's `_tag` and data). */
  readonly fields: Record<string, unknown>
}

/** Can `value` be posted to a thread (structured clone)? */
export const isCloneable = (value: unknown): boolean => {
  try {
    structuredClone(value)
    return true
  } catch {
    return false
  }
}

/**
 * One own field of a thrown value as it crosses the thread: the value itself when structured
 * clone can carry it (a BigInt, a cycle, a Map, a Date, …), else a string naming what it held
 * (a function, a Symbol, an object holding one) — and a getter that throws is named with what it
 * threw. Never throws: one field that cannot be carried never costs the error its other fields.
 */
const carried = (owner: Record<string, unknown>, key: string): unknown => {
  let value: unknown
  try {
    value = owner[key]
  } catch (error) {
    return `[cannot be read: ${describeThrown(error instanceof Error ? errorLabel(error) : error)}]`
  }
  return isCloneable(value) ? value : `[cannot be cloned: ${describeThrown(value)}]`
}

/** `owner`'s own enumerable fields but `skip`, each {@link carried}. */
const carriedFields = (owner: Record<string, unknown>, skip: ReadonlyArray<string>): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(owner)) {
    if (!skip.includes(key)) fields[key] = carried(owner, key)
  }
  return fields
}

/**
 * Captures `error` (anything thrown) for `postMessage`: its own fields travel by structured
 * clone (see {@link carried}); a field that cannot is a string naming it. A plain object (an
 * Effect's failure such as `{ _tag, ... }`) is named by its `_tag`, its message its JSON as
 * {@link describeThrown} writes it (BigInts and cycles included).
 */
export const serializeError = (error: unknown): SerializedError => {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const e = error as Error & Record<string, unknown>
    const fields = carriedFields(e, ["message", "stack", "name"])
    const name = typeof e.name === "string" ? e.name : "Error"
    return { name, message: String(e.message), stack: typeof e.stack === "string" ? e.stack : undefined, fields }
  }
  if (typeof error === "object" && error !== null) {
    // a plain object (an Effect's failure such as { _tag, ... }): its fields are the error's
    const fields = carriedFields(error as Record<string, unknown>, [])
    const tag = typeof fields._tag === "string" ? fields._tag : "Error"
    return { name: tag, message: describeThrown(fields), stack: undefined, fields }
  }
  return { name: "Error", message: String(error), stack: undefined, fields: {} }
}

/**
 * A value named for a message without running code of its owner that could throw: strings
 * quoted, symbols and bigints as written, a plain object by its JSON (at most 200 characters;
 * BigInts and cycles written, see `jsonOf`), anything else by kind.
 */
export const describeThrown = (value: unknown): string => {
  if (typeof value === "symbol") return String(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "string") return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)
  if (value === null || typeof value !== "object") return String(value)
  try {
    const json = jsonOf(value)
    if (typeof json === "string") return json.length > 200 ? `${json.slice(0, 200)}…` : json
  } catch {
    // a throwing getter, toJSON or Proxy trap: named by kind
  }
  return Array.isArray(value) ? "an array" : "an object"
}

/**
 * `value`'s JSON keeping what it can: a BigInt as its digits and `n` (`"12n"`), a reference back
 * to an enclosing object as `"[Circular]"` (plain `JSON.stringify` throws on either, and the
 * whole value would be lost). What JSON leaves out (functions, Symbols, `undefined`) it still does.
 */
const jsonOf = (value: object): string | undefined => {
  // the objects enclosing the one being written (a replacer's `this` is its holder)
  const enclosing: Array<unknown> = []
  return JSON.stringify(value, function(this: unknown, _key: string, field: unknown) {
    if (typeof field === "bigint") return `${field}n`
    if (field === null || typeof field !== "object") return field
    while (enclosing.length > 0 && enclosing[enclosing.length - 1] !== this) enclosing.pop()
    if (enclosing.includes(field)) return "[Circular]"
    enclosing.push(field)
    return field
  })
}

/**
 * What a thread threw uncaught (its Worker's `error` event, which passes any thrown value as is —
 * `null`, a string, a Symbol, a plain object — or a description when it cannot be cloned) as an
 * `Error`: an `Error` as is, else an `Error` whose message names the value (safely).
 */
export const thrownError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(`threw ${describeThrown(value)} (not an Error)`)

/** `error` as "Name: message" for a crash's message; never throws (a getter of a user's error may). */
export const errorLabel = (error: Error): string => {
  let name: string
  let message: string
  try {
    name = typeof error.name === "string" ? error.name : "Error"
  } catch {
    name = "Error"
  }
  try {
    message = typeof error.message === "string" ? error.message : describeThrown(error.message)
  } catch {
    message = "(its message cannot be read)"
  }
  return `${name}: ${message}`
}

/** Rebuilds an `Error` from its serialized form (same name, message, stack and fields). */
export const deserializeError = (serialized: SerializedError): Error => {
  const error = new Error(serialized.message)
  Object.defineProperty(error, "name", { value: serialized.name, enumerable: false, configurable: true, writable: true })
  if (serialized.stack !== undefined) error.stack = serialized.stack
  Object.assign(error, serialized.fields)
  return error
}
