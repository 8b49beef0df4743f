/**
 * The messages between the pool (main side) and a worker thread, and how errors cross the
 * thread boundary. Plain data, no Effect imports: the Effect 4 edition reuses it as it is.
 *
 * One `postMessage` each way per task, on the worker's own port (no channel per task).
 *
 * @internal
 */

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
}

/** main → worker, once on `parentPort`: the port tasks come on, and the settings. */
export interface StartMessage {
  readonly port: import("node:worker_threads").MessagePort
  readonly settings: RunnerSettings
}

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

/** Captures `error` (anything thrown) for `postMessage`; fields that cannot be cloned become strings. */
export const serializeError = (error: unknown): SerializedError => {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const e = error as Error & Record<string, unknown>
    const fields: Record<string, unknown> = {}
    for (const key of Object.keys(e)) {
      if (key === "message" || key === "stack" || key === "name") continue
      const value = e[key]
      fields[key] = isCloneable(value) ? value : String(value)
    }
    const name = typeof e.name === "string" ? e.name : "Error"
    return { name, message: String(e.message), stack: typeof e.stack === "string" ? e.stack : undefined, fields }
  }
  if (typeof error === "object" && error !== null) {
    // a plain object (an Effect's failure such as { _tag, ... }): its fields are the error's
    const fields: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(error)) fields[key] = isCloneable(value) ? value : String(value)
    const tag = typeof fields._tag === "string" ? fields._tag : "Error"
    return { name: tag, message: JSON.stringify(fields), stack: undefined, fields }
  }
  return { name: "Error", message: String(error), stack: undefined, fields: {} }
}

/** Rebuilds an `Error` from its serialized form (same name, message, stack and fields). */
export const deserializeError = (serialized: SerializedError): Error => {
  const error = new Error(serialized.message)
  Object.defineProperty(error, "name", { value: serialized.name, enumerable: false, configurable: true, writable: true })
  if (serialized.stack !== undefined) error.stack = serialized.stack
  Object.assign(error, serialized.fields)
  return error
}
