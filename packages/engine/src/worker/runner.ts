/**
 * The entry of every pooled worker thread, started by `Thread` by its path (`runner.js` next to
 * `thread.js`): loads the user's handler module and runs the tasks the pool posts on the port
 * it sent at start (one port per worker, never one per task). It never imports `effect` itself.
 *
 * A handler is a function `(input, { signal }) => output` whose output may be a value, a Promise
 * or an Effect of either major (interrupted when the task is cancelled) — a piscina worker file
 * runs unchanged — or a handler marked with `HandlerTypeId` (an edition's `WorkerPool.handler(…)`:
 * services built once per thread, Schemas for input and output). Effects and marked handlers
 * are run by the edition's effects module named in `RunnerSettings.effects`, imported only when
 * a handler needs it, so plain handlers start as fast as piscina's.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type MessagePort, parentPort, receiveMessageOnPort, type TransferListItem, workerData } from "node:worker_threads"
import {
  type CancelMessage,
  type EffectsModule,
  type HandlerMark,
  HandlerTypeId,
  isEffect,
  type ReadyMessage,
  type ReplyMessage,
  type RunnerSettings,
  type SerializedError,
  serializeError,
  type StartMessage,
  type Running as RunningTask,
  type TaskMessage,
  WAKE_PARKED,
  WAKE_POSTED
} from "./protocol.js"

type Plain = (input: unknown, context: TaskContext) => unknown
let settings: RunnerSettings

let effects: EffectsModule | undefined
/** The effects module is being imported (the thread must not park: its import would stall). */
let loadingEffects = false
const loadEffects = async (): Promise<EffectsModule> => {
  if (effects !== undefined) return effects
  loadingEffects = true
  try {
    return (effects ??= (await import(settings.effects)) as EffectsModule)
  } finally {
    loadingEffects = false
  }
}

/** What a handler gets besides its input. Its `signal` is made on first use (most never ask). */
class TaskContext {
  controller: AbortController | undefined
  cancelled = false
  constructor(readonly id: number) {}
  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    if (this.cancelled && !this.controller.signal.aborted) this.controller.abort()
    return this.controller.signal
  }
}

/** A task still running: how to stop it. */
interface Running {
  readonly context: TaskContext
  interrupt: (() => void) | undefined
}

/** A resolved export: a plain function, or a definition run through Effect. */
type Resolved = { readonly plain: Plain } | { readonly definition: HandlerMark; readonly run: (input: unknown, context: TaskContext) => RunningTask }

const running = new Map<number, Running>()
const handlers = new Map<string, Promise<Resolved>>()
const resolvedNow = new Map<string, Resolved>()
let port: MessagePort
/** The main side's count of posted messages (`StartMessage.wake`); undefined: never park. */
let wake: Int32Array | undefined
/** The count as last seen here: `Atomics.wait` sleeps while the main side's is still this. */
let seenPosted = 0
/** In `Atomics.wait` or running what it brought now (a task finished meanwhile does not park again). */
let parked = false
/** The module as loaded: `module.exports` of a CommonJS file (as piscina reads it), an ES module's namespace. */
let module: unknown

/** TypeScript files `require()` can load (an `.mts` is an ES module: `import()`ed). */
const requirableTypeScript = /\.(?:ts|cts|tsx)$/

/**
 * A TypeScript worker file is loaded as under `tsx`, as piscina's threads are when the app runs
 * under tsx: when no require hook for `.ts` is registered in this thread yet (none inherited
 * through `execArgv`: Node's own type stripping registers none) and tsx resolves from the file,
 * tsx's CommonJS hook is registered here — so a file in CommonJS scope (its package.json says
 * `"commonjs"` or has no `type`) is required with its `import` statements compiled to require().
 * Without tsx the file is left to Node (its type stripping on Node ≥ 22.18 / 23.6).
 */
const registerTypeScript = (path: string): void => {
  const require = createRequire(path)
  if (require.extensions[".ts"] !== undefined) return
  let api: string
  try {
    api = require.resolve("tsx/cjs/api")
  } catch {
    return // tsx is not installed where the file is
  }
  ;(require(api) as { register: () => unknown }).register()
}

/** Loads the module like piscina: `require()` first (CommonJS, and TypeScript under a require hook such as tsx), `import()` for ES modules. */
const load = async (href: string): Promise<unknown> => {
  if (href.startsWith("file:") && !href.endsWith(".mjs") && !href.endsWith(".mts")) {
    const path = fileURLToPath(href)
    if (requirableTypeScript.test(path)) registerTypeScript(path)
    let required: unknown
    try {
      required = createRequire(path)(path)
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      // an ES module (or one with top-level await) that require() cannot load: import() it
      if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE" && code !== "ERR_UNKNOWN_FILE_EXTENSION") throw error
      return import(href)
    }
    return required
  }
  return import(href)
}

const own = (value: unknown, key: string): unknown =>
  (value !== null && (typeof value === "object" || typeof value === "function") && Object.hasOwn(value, key))
    ? (value as Record<string, unknown>)[key]
    : undefined

const isHandler = (value: unknown): boolean =>
  typeof value === "function" || (value !== null && typeof value === "object" && HandlerTypeId in value)

/** Export `name` of the module: piscina's rule (a module that is a function is "the" handler for the default). */
const lookUp = (name: string): unknown => {
  if (typeof module === "function") return name === "default" ? module : own(module, name)
  let value = own(module, name)
  if (value === undefined && name !== "default") {
    // an ES module's namespace of a CommonJS file (from import()): its exports object is the default
    value = own(own(module, "default"), name)
  }
  // a CommonJS module compiled from `export default` ({ default: { default: f } })
  if (value !== null && typeof value === "object" && !(HandlerTypeId in value) && isHandler(own(value, name))) {
    value = own(value, name)
  }
  return value
}

const resolveExport = async (name: string): Promise<Resolved> => {
  let value: unknown = lookUp(name)
  value = await value
  if (typeof value === "function") return { plain: value as Plain }
  if (value !== null && typeof value === "object" && HandlerTypeId in value) {
    const definition = value as HandlerMark
    const { make } = await loadEffects()
    return { definition, run: await make(definition) }
  }
  throw new TypeError(`the worker module ${settings.module} has no handler named "${name}" (found ${typeof value})`)
}

const handlerOf = (name: string): Promise<Resolved> => {
  let handler = handlers.get(name)
  if (handler === undefined) handlers.set(name, (handler = resolveExport(name)))
  return handler
}

const kTransferable = Symbol.for("Piscina.transferable")
const kValue = Symbol.for("Piscina.valueOf")

/** `Piscina.move(value)`: marked by piscina with its (private) `Piscina.kMovable` symbol. */
const isMoved = (value: unknown): value is Record<symbol, unknown> =>
  value !== null && typeof value === "object" && kTransferable in value && kValue in value &&
  Object.getOwnPropertySymbols(value).some((s) => s.description === "Piscina.kMovable" && (value as Record<symbol, unknown>)[s] === true)

const reply = (message: ReplyMessage): void => {
  try {
    if (message.status === 0 && isMoved(message.value)) {
      const moved = message.value
      // one transferable or an array of them (piscina concatenates either onto its transfer list)
      port.postMessage({ ...message, value: moved[kValue] }, ([] as Array<TransferListItem>).concat(moved[kTransferable] as TransferListItem))
      return
    }
    port.postMessage(message)
  } catch (error) {
    // the value could not be cloned: the task fails with that error, the worker lives on
    port.postMessage({ id: message.id, status: 1, error: safeSerialize(error), heap: message.heap } satisfies ReplyMessage)
  }
}

const heap = (): number | undefined => (settings.reportHeap ? process.memoryUsage().heapUsed : undefined)

/**
 * Replies once for task `id`: its outcome, or "cancelled" when the pool cancelled it. The reply
 * is posted in a microtask, as piscina's (which awaits every handler's result): the promise
 * callbacks the task left queued (a `.then`, what follows an `await` it did not wait for) run
 * first, so their side effects are there when its result arrives; the thread parks after that.
 */
const settle = (id: number, outcome: () => Pick<ReplyMessage, "status" | "value" | "error">): void => {
  const task = running.get(id)
  running.delete(id)
  const message: ReplyMessage = task?.context.cancelled ? { id, status: 2, heap: heap() } : { id, ...outcome(), heap: heap() }
  queueMicrotask(() => {
    reply(message)
    if (running.size === 0) parkSoon()
  })
}

/** How long one `Atomics.wait` of an idle thread lasts before it goes back to its event loop (ms). */
const PARK_WAIT_MS = 1
/** How long a thread stays parked, taking task after task, before it lets its event loop run (ms). */
const PARK_BUDGET_MS = 2

/**
 * When the thread first parked since its event loop last ran (undefined: it has run since: a
 * message came through it, or the immediate queued at the first park ran).
 */
let budgetStart: number | undefined
const budgetEnds = (): void => {
  budgetStart = undefined
}
/** An immediate that ends the budget is queued (one at a time). */
let budgetImmediate = false
const budgetImmediateRuns = (): void => {
  budgetImmediate = false
  budgetStart = undefined
}
/** Whether the thread parks when idle: it was given a wake word, has no Effect runtime, nothing to flush. */
const parksNow = (): boolean =>
  wake !== undefined && effects === undefined && !loadingEffects && process.stdout.writableLength === 0 && process.stderr.writableLength === 0

/** A park is queued as a microtask (after the replies and callbacks queued before it). */
let parkQueued = false
const parkNow = (): void => {
  parkQueued = false
  park()
}
/** Parks once what is queued on the microtask queue now has run. */
const parkSoon = (): void => {
  if (parkQueued) return
  parkQueued = true
  queueMicrotask(parkNow)
}

/**
 * With no task running, waits briefly for the next message in `Atomics.wait` (as piscina's
 * threads do) and runs what came in this tick: a sleeping thread is woken by the main side's
 * `Atomics.notify`, which costs far less than an event-loop wake-up per task. Like piscina's, a
 * thread takes what one wake-up brings, then lets the microtask queue run — the tasks' replies
 * and the promise callbacks they left behind — before it parks again ({@link parkSoon}). Unlike
 * piscina's (which wait until the next task) the wait is bounded — {@link PARK_WAIT_MS} idle, at
 * most {@link PARK_BUDGET_MS} in all until the event loop has run — so what a task left to the
 * event loop (timers, immediates, I/O, stdio) still runs, late by at most that. Only while no
 * Effect runtime has been loaded in the thread (its fibers would stall meanwhile) and nothing is
 * left to flush on stdout/stderr; a task that stays async returns the thread to its event loop
 * until it ends.
 */
const park = (): void => {
  const word = wake
  if (parked || running.size > 0 || word === undefined || !parksNow()) return
  const now = performance.now()
  if (budgetStart === undefined) {
    budgetStart = now
    if (!budgetImmediate) {
      budgetImmediate = true
      setImmediate(budgetImmediateRuns) // runs once the event loop does
    }
  } else if (now - budgetStart > PARK_BUDGET_MS) return
  parked = true
  let took = false
  try {
    if (Atomics.wait(word, WAKE_POSTED, seenPosted, PARK_WAIT_MS) === "timed-out") return
    seenPosted = Atomics.load(word, WAKE_POSTED)
    // read after updating the count: a message posted in between wakes the next wait
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      if (!("cancel" in next.message)) {
        took = true
        Atomics.add(word, WAKE_PARKED, 1)
      }
      onMessage(next.message)
    }
  } finally {
    parked = false
  }
  // a task taken parks again when its reply is posted (after what it queued); with none taken
  // (the messages went through the event loop, or were cancels) it parks again from here
  if (!took && running.size === 0) parkSoon()
}

const succeed = (id: number, value: unknown): void => settle(id, () => ({ status: 0, value }))

const safeSerialize = (error: unknown): SerializedError => {
  try {
    return serializeError(error)
  } catch (e) {
    // an error whose fields throw when read
    return { name: "Error", message: `the handler failed with an error that cannot be read (${String(e)})`, stack: undefined, fields: {} }
  }
}

const fail = (id: number, error: unknown): void => settle(id, () => ({ status: 1, error: safeSerialize(error) }))

const isPromise = (value: unknown): boolean =>
  value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function"

const runResolved = (resolved: Resolved, task: TaskMessage, entry: Running): void => {
  const id = task.id
  if ("definition" in resolved) {
    const promise = resolved.run(task.input, entry.context)
    entry.interrupt = promise.interrupt
    promise.then((value) => succeed(id, value), (error) => fail(id, error))
    return
  }
  let output: unknown
  try {
    output = resolved.plain(task.input, entry.context)
  } catch (error) {
    fail(id, error)
    return
  }
  let thenable = false
  try {
    thenable = output !== null && typeof output === "object" && typeof (output as PromiseLike<unknown>).then === "function"
  } catch (error) {
    // a value whose `then` getter throws: the task fails, the thread lives on
    fail(id, error)
    return
  }
  if (output !== null && typeof output === "object") {
    if (thenable) {
      ;(output as PromiseLike<unknown>).then((value) => succeed(id, value), (error) => fail(id, error))
      return
    }
    if (isEffect(output)) {
      loadEffects().then((fx) => {
        const promise = fx.runTask(output)
        entry.interrupt = promise.interrupt
        if (entry.context.cancelled) promise.interrupt?.()
        promise.then((value) => succeed(id, value), (error) => fail(id, error))
      }, (error) => fail(id, error))
      return
    }
  }
  succeed(id, output)
}

const onTask = (task: TaskMessage): void => {
  const entry: Running = { context: new TaskContext(task.id), interrupt: undefined }
  running.set(task.id, entry)
  const name = task.name ?? settings.name
  // the common case (an export already resolved, as the pool's own is at start) runs in this tick
  const ready = resolvedNow.get(name)
  if (ready !== undefined) {
    runResolved(ready, task, entry)
    return
  }
  handlerOf(name).then(
    (resolved) => {
      resolvedNow.set(name, resolved)
      runResolved(resolved, task, entry)
    },
    (error) => fail(task.id, error)
  )
}

const onCancel = (message: CancelMessage): void => {
  const task = running.get(message.cancel)
  if (task === undefined) return
  task.context.cancelled = true
  task.context.controller?.abort()
  task.interrupt?.()
}

const onMessage = (message: TaskMessage | CancelMessage): void => {
  if ("cancel" in message) onCancel(message)
  else onTask(message)
}

/** piscina's `isWorkerThread` / `workerData`, set as its own worker entry does, when the module can resolve piscina. */
const setPiscinaState = (): void => {
  for (const from of [settings.module.startsWith("file:") ? fileURLToPath(settings.module) : undefined, join(process.cwd(), "index.js")]) {
    if (from === undefined) continue
    try {
      const require = createRequire(from)
      const main = require.resolve("piscina")
      const common = require(join(dirname(main), "common.js")) as { commonState?: { isWorkerThread: boolean; workerData: unknown } }
      if (common.commonState === undefined) continue
      common.commonState.isWorkerThread = true
      common.commonState.workerData = workerData
      return
    } catch {
      // piscina is not installed there
    }
  }
}

const start = async (): Promise<void> => {
  const received = await new Promise<StartMessage>((resolve) => parentPort!.once("message", resolve))
  port = received.port
  settings = received.settings
  // a pool with atomics: "disabled" (or "async") sends no wake word; never park without one
  wake = settings.park === false ? undefined : received.wake
  try {
    setPiscinaState()
    module = await load(settings.module)
    // the pool's export is resolved now (its layer built); a missing one fails the start only when `name` was given
    if (settings.explicitName || isHandler(lookUp(settings.name)) || isPromise(lookUp(settings.name))) {
      const resolved = await handlerOf(settings.name)
      resolvedNow.set(settings.name, resolved)
    }
  } catch (error) {
    port.postMessage({ ready: true, error: safeSerialize(error) } satisfies ReadyMessage)
    return
  }
  port.on("message", (message: TaskMessage | CancelMessage) => {
    budgetEnds() // the event loop ran (this is one of its callbacks)
    onMessage(message)
    // a thread that parks takes whatever else is queued from its wait, after the replies and
    // callbacks queued now (see park); one that does not takes it now, without an event each
    if (parksNow()) return
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      onMessage(next.message)
    }
  })
  port.postMessage({ ready: true } satisfies ReadyMessage)
  park()
}

void start()
