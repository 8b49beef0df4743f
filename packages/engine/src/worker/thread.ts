/**
 * The main side of one worker thread: starts it on the runner (`./runner.js` next to this
 * module, found by path) and waits for its module to load, posts tasks on its port, routes
 * replies to their tasks, and reports a crash to every task it was running. Callback-based, no
 * Effect import: every edition's worker pool drives it.
 *
 * @example
 * ```ts
 * import { Thread, taskId } from "@effect-pool/engine/worker/thread"
 *
 * const settings = { module: "file:///app/square.mjs", name: "default", explicitName: false, reportHeap: false, effects: "file:///app/effects.mjs" }
 * const thread = new Thread(
 *   { settings, workerData: undefined, env: undefined, argv: undefined, execArgv: undefined, resourceLimits: undefined, startupTimeout: 10_000 },
 *   (failure) => {
 *     if (failure !== undefined) return console.error(failure.reason)
 *     thread.post({ id: taskId(), settle: (reply) => { console.log(reply?.value); void thread.terminate("done") } }, 7, undefined, undefined)
 *   }
 * )
 * ```
 * @since 0.1.0
 */
import { fileURLToPath } from "node:url"
import { MessageChannel, type MessagePort, receiveMessageOnPort, type ResourceLimits, type TransferListItem, Worker } from "node:worker_threads"
import {
  deserializeError,
  thrownError,
  type ReadyMessage,
  type ReplyMessage,
  type StartMessage,
  type RunnerSettings,
  WAKE_PARKED,
  WAKE_POSTED,
  WAKE_WORDS
} from "./protocol.js"

const runner = fileURLToPath(new URL("./runner.js", import.meta.url))

/** What a thread is started with. */
export interface ThreadOptions {
  readonly settings: RunnerSettings
  readonly workerData: unknown
  readonly env: NodeJS.ProcessEnv | typeof import("node:worker_threads").SHARE_ENV | undefined
  readonly argv: ReadonlyArray<string> | undefined
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly resourceLimits: ResourceLimits | undefined
  /** ms; Infinity for none. */
  readonly startupTimeout: number
}

/** How a thread ended while tasks were on it. */
export interface Exited {
  readonly threadId: number
  readonly exitCode: number
  /** The uncaught error that ended it, if one did. */
  readonly error: Error | undefined
  /** Why the pool ended it, when it did ("timeout", "cancel", "close", …); `undefined` for a crash. */
  readonly terminatedBy: string | undefined
}

/** A task posted to a thread; `settle` is called exactly once. */
export interface PostedTask {
  readonly id: number
  settle(reply: ReplyMessage | undefined, exited: Exited | undefined): void
}

/** Why a thread did not start. */
export interface StartupFailure {
  readonly threadId: number
  readonly reason: string
  readonly error: Error | undefined
}

let nextTaskId = 0
/** A task id unique in this process. */
export const taskId = (): number => nextTaskId++

export class Thread {
  readonly worker: Worker
  readonly threadId: number
  readonly tasks = new Map<number, PostedTask>()
  private readonly port: MessagePort
  /** Counts the messages posted (the runner parks on it when idle; see `StartMessage.wake`); none when it does not park. */
  private readonly wake: Int32Array | undefined
  /** Heap used after its last task (only when the pool asked for heap reports). */
  heapUsed = 0
  ready = false
  exited = false
  /** How it ended, once it has. */
  exitInfo: Exited | undefined
  /** The pool marked it for replacement (its own bookkeeping: counted once). */
  retired = false
  /** Set when the pool ends the thread on purpose, before it does. */
  terminatedBy: string | undefined
  private lastError: Error | undefined
  private readonly exit: Promise<void>
  /** Called once when the thread has exited, after its tasks were settled. */
  onExit: ((thread: Thread, exited: Exited) => void) | undefined

  constructor(options: ThreadOptions, started: (failure: StartupFailure | undefined) => void) {
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    this.wake = options.settings.park === false ? undefined : new Int32Array(new SharedArrayBuffer(4 * WAKE_WORDS))
    // every option Worker reads is an own property here (undefined: Node's default): a Worker
    // options object inherits from Object.prototype, so one left out could be supplied by a
    // polluted prototype
    this.worker = new Worker(runner, {
      argv: options.argv === undefined ? [] : [...options.argv],
      workerData: options.workerData,
      env: options.env,
      execArgv: options.execArgv === undefined ? undefined : [...options.execArgv],
      resourceLimits: options.resourceLimits,
      eval: false,
      stdin: false,
      stdout: false,
      stderr: false,
      trackUnmanagedFds: true,
      transferList: []
    })
    this.threadId = this.worker.threadId
    let timer: ReturnType<typeof setTimeout> | undefined
    const fail = (reason: string, error: Error | undefined) => {
      if (this.ready) return
      this.ready = true // settled: started() is called once
      if (timer !== undefined) clearTimeout(timer)
      void this.terminate("startup failed")
      started({ threadId: this.threadId, reason, error })
    }
    // a start-up timeout past what a timer holds (about 24.8 days) never fires, like Infinity
    const startupMs = Number.isFinite(options.startupTimeout) && options.startupTimeout <= 2_147_483_647 ? options.startupTimeout : undefined
    if (startupMs !== undefined) {
      timer = setTimeout(() => fail(`did not start within ${options.startupTimeout} ms`, undefined), startupMs)
    }
    this.worker.on("error", (thrown: unknown) => {
      // any value thrown uncaught in the thread (`throw null`, a string, a Symbol): an Error here
      const error = thrownError(thrown)
      this.lastError = error
      fail("failed while starting", error)
    })
    this.exit = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        // a thread whose module failed to load posts why, then ends: its exit can be seen first
        const queued = this.ready ? undefined : receiveMessageOnPort(this.port)?.message as ReadyMessage | undefined
        if (queued?.error !== undefined) fail("its module failed to load", deserializeError(queued.error))
        fail(`exited with code ${code} while starting`, this.lastError)
        this.exited = true
        this.port.close()
        const exited: Exited = { threadId: this.threadId, exitCode: code, error: this.lastError, terminatedBy: this.terminatedBy }
        this.exitInfo = exited
        const tasks = [...this.tasks.values()]
        this.tasks.clear()
        for (const task of tasks) task.settle(undefined, exited)
        this.onExit?.(this, exited)
        resolve()
      })
    )
    this.port.once("message", (message: ReadyMessage) => {
      if (message.error !== undefined) return fail("its module failed to load", deserializeError(message.error))
      if (this.ready) return
      this.ready = true
      if (timer !== undefined) clearTimeout(timer)
      this.port.on("message", this.onMessage)
      started(undefined)
    })
    this.worker.postMessage({ port: port2, settings: options.settings, wake: this.wake } satisfies StartMessage, [port2])
  }

  private readonly onMessage = (message: ReplyMessage): void => {
    this.reply(message)
    // take every other reply already queued, without an event per message
    for (let next = receiveMessageOnPort(this.port); next !== undefined; next = receiveMessageOnPort(this.port)) {
      this.reply(next.message)
    }
  }

  private reply(message: ReplyMessage): void {
    const task = this.tasks.get(message.id)
    if (task === undefined) return
    this.tasks.delete(message.id)
    if (message.heap !== undefined) this.heapUsed = message.heap
    task.settle(message, undefined)
  }

  /** Posts a task (its `settle` runs on the reply, or when the thread exits). */
  post(task: PostedTask, input: unknown, name: string | undefined, transfer: ReadonlyArray<TransferListItem> | undefined): void {
    this.tasks.set(task.id, task)
    try {
      this.port.postMessage(name === undefined ? { id: task.id, input } : { id: task.id, input, name }, transfer as Array<TransferListItem>)
      this.notify()
    } catch (error) {
      // the input could not be cloned or transferred: nothing was sent
      this.tasks.delete(task.id)
      throw error
    }
  }

  /** Asks the thread to stop a task (its signal aborts, its Effect is interrupted). */
  cancel(id: number): void {
    if (!this.exited) {
      this.port.postMessage({ cancel: id })
      this.notify()
    }
  }

  /** Tells the runner a message was posted (wakes it if it is parked in `Atomics.wait`). */
  private notify(): void {
    const wake = this.wake
    if (wake === undefined) return
    Atomics.add(wake, WAKE_POSTED, 1)
    Atomics.notify(wake, WAKE_POSTED, 1)
  }

  /** Tasks the thread took while parked in `Atomics.wait` (0 when it does not park). */
  get parked(): number {
    return this.wake === undefined ? 0 : Atomics.load(this.wake, WAKE_PARKED)
  }

  /** Ends the thread (tasks on it settle as exited, `terminatedBy` = `reason`); resolves once it has exited. */
  terminate(reason: string): Promise<void> {
    if (!this.exited) {
      this.terminatedBy ??= reason
      void this.worker.terminate()
    }
    return this.exit
  }
}
