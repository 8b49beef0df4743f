/**
 * The worker pool's Effect shell: a core `Pool` of threads (one item = one thread, started by
 * ./threads.ts; `concurrency` = tasks per thread; `maxUses` = `maxTasksPerWorker`), tasks
 * borrowed through the core's `Borrow` so that the reply that frees a thread posts the next
 * queued task in the same tick, and every fault turned into a typed error. The threads and
 * their message protocol are the engine's (`@effect-pool/engine/worker/*`).
 *
 * @internal
 */
import { OptionCheck, Pool, PoolClosedError, PoolConfigError } from "@effect-pool/core"
import type * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { availableParallelism } from "node:os"
import { isAbsolute, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { type ResourceLimits, SHARE_ENV, type TransferListItem } from "node:worker_threads"
import type { Options, RunOptions } from "../WorkerPool.js"
import { TaskFailedError, TaskInputError, TaskTimeoutError, WorkerCrashedError, type WorkerError, type WorkerStartupError } from "../WorkerError.js"
import { deserializeError, errorLabel, isCloneable, type ReplyMessage } from "@effect-pool/engine/worker/protocol"
import { type Exited, type PostedTask, taskId, type Thread } from "@effect-pool/engine/worker/thread"
import { type AtomicsMode, parkingOf, parseAtomics, parseRunOptions, type RunOptions as ParsedRun } from "@effect-pool/engine/worker/options"
import { type Counters, Threads } from "./threads.js"

/** The options of `WorkerPool.make`, as documented on the public type. */
export type PoolOptions = Options<any, any>

/** The core's option names, as users of this package know them. */
const optionNames: Record<string, string> = {
  min: "minWorkers",
  max: "maxWorkers",
  concurrency: "concurrentTasksPerWorker",
  maxWaiters: "maxQueue",
  maxUses: "maxTasksPerWorker"
}

const timeBoundaries = MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 18 })
const metrics = {
  tasks: Metric.counter("effect_pool_worker_tasks_total", { description: "tasks ended, by outcome" }),
  crashes: Metric.counter("effect_pool_worker_crashes_total", { description: "worker threads that crashed" }),
  recycles: Metric.counter("effect_pool_worker_recycles_total", { description: "worker threads recycled (maxTasksPerWorker, heap)" }),
  running: Metric.gauge("effect_pool_worker_running", { description: "tasks running on threads" }),
  utilization: Metric.gauge("effect_pool_worker_utilization", { description: "running tasks / task slots of live threads" }),
  runTime: Metric.histogram("effect_pool_worker_run_ms", timeBoundaries, "time tasks ran on a thread (ms, sampled)")
}
const RUN_SAMPLE_MASK = 7

/** This edition's Effect runtime for the threads (the engine runner imports it when a handler needs it). */
const effects = new URL("./effects.js", import.meta.url).href

const fileHref = (filename: string | URL): string => {
  if (filename instanceof URL) return filename.href
  if (filename.startsWith("file:")) return new URL(filename).href
  return pathToFileURL(isAbsolute(filename) ? filename : resolve(filename)).href
}

/** A task from `run` to its end: borrowing, posted, settled. */
class Task implements PostedTask {
  readonly id = taskId()
  lease: Pool.Borrow<Thread> | undefined = undefined
  /** The caller has its outcome (or was interrupted): a late reply only frees the thread. */
  done = false
  started = 0
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  grace: ReturnType<typeof setTimeout> | undefined = undefined
  constructor(
    readonly shell: WorkerPoolShell,
    readonly resume: (effect: Effect.Effect<unknown, WorkerError>) => void
  ) {}

  settle(reply: ReplyMessage | undefined, exited: Exited | undefined): void {
    this.shell.settle(this, reply, exited)
  }
}

/** One pool's tasks on its threads, around its core `Pool` (the public `WorkerPool` wraps it). */
export class WorkerPoolShell {
  readonly counters: Counters
  readonly poolName: string
  private readonly tags: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly reported: Record<"completed" | "failed" | "cancelled" | "timedOut" | "crashes" | "recycles", number> = {
    completed: 0,
    failed: 0,
    cancelled: 0,
    timedOut: 0,
    crashes: 0,
    recycles: 0
  }
  private sampled = 0

  constructor(
    readonly threads: Threads,
    readonly pool: Pool.Pool<Thread, WorkerStartupError>,
    readonly taskTimeout: number,
    readonly cancelGracePeriod: number,
    /** The core pool's `maxUses` (read back only to count `recycles`). */
    readonly maxTasksPerWorker: number,
    readonly maxHeap: number,
    readonly concurrency: number,
    readonly encode: ((input: unknown) => Effect.Effect<unknown, WorkerError>) | undefined,
    readonly decode: ((output: unknown) => Effect.Effect<unknown, WorkerError>) | undefined
  ) {
    this.counters = threads.counters
    this.poolName = threads.poolName
    this.tags = [MetricLabel.make("pool", this.poolName)]
  }

  /** Threads running at least one task. */
  busyThreads(): number {
    return this.threads.busy()
  }

  /** Tasks threads took while parked (`Stats.parked`). */
  parkedTasks(): number {
    return this.threads.parked()
  }

  /** `WorkerPool.run`. */
  run(input: unknown, options: RunOptions | undefined): Effect.Effect<unknown, WorkerError> {
    let checked: ReturnType<typeof checkRunOptions>
    try {
      checked = checkRunOptions(options, this.taskTimeout)
    } catch (error) {
      // a getter or Proxy of the caller's that throws
      checked = inputError("options", `cannot be read: ${String(error)}`)
    }
    if (checked instanceof TaskInputError) return Effect.fail(checked)
    const { name, timeout, transfer } = checked
    const run = (payload: unknown) =>
      Effect.async<unknown, WorkerError>((resume) => {
        const task = new Task(this, resume)
        const borrow = Pool.unsafeBorrow(this.pool, (lease, failure) => {
          if (lease === undefined) return resume(Effect.failCause(failure as Cause.Cause<WorkerError>))
          this.start(task, lease, payload, name, transfer, timeout)
        })
        return Effect.sync(() => {
          if (task.lease !== undefined) return this.cancel(task, "interrupted")
          borrow.cancel()
          this.counters.cancelled++
        })
      })
    let effect = this.encode === undefined ? run(input) : Effect.flatMap(this.encode(input), run)
    if (this.decode !== undefined) effect = Effect.flatMap(effect, this.decode)
    return effect
  }

  private start(
    task: Task,
    lease: Pool.Borrow<Thread>,
    payload: unknown,
    name: string | undefined,
    transfer: ReadonlyArray<TransferListItem> | undefined,
    timeout: number
  ): void {
    task.lease = lease
    const thread = lease.value
    if (thread.exited) {
      // ended between its last task and this one (it is being removed): fail like its other tasks
      this.counters.running++
      task.settle(undefined, thread.exitInfo)
      return
    }
    try {
      thread.post(task, payload, name, transfer)
    } catch (error) {
      // the input could not be cloned or a transfer item not moved: nothing was sent, the thread
      // stays and the task does not count toward maxTasksPerWorker
      lease.return(Exit.void, { used: false })
      task.done = true
      this.counters.failed++
      const e = error instanceof Error ? error : new Error(String(error))
      const argument = transfer !== undefined && transfer.length > 0 && isCloneable(payload) ? "transfer" : "input"
      task.resume(Effect.fail(new TaskInputError({
        argument,
        error: e,
        message: `the task's ${argument} cannot be sent to a worker of pool "${this.poolName}": ${e.name}: ${e.message}`
      })))
      return
    }
    this.counters.running++
    if ((++this.sampled & RUN_SAMPLE_MASK) === 0) task.started = performance.now()
    const timerMs = OptionCheck.timerMillis(timeout)
    if (timerMs !== undefined) {
      // a plain timer, not a fiber: a thread's time is wall-clock time, and this costs nothing per task
      task.timer = setTimeout(() => {
        task.timer = undefined
        if (task.done) return
        this.counters.timedOut++
        task.resume(Effect.fail(new TaskTimeoutError({
          threadId: thread.threadId,
          timeout: Duration.millis(timeout),
          message: `task ran longer than ${timeout} ms on worker ${thread.threadId} of pool "${this.poolName}"`
        })))
        this.cancel(task, "timeout")
      }, timerMs)
    }
  }

  /** Stops a running task: its caller is done; the thread gets `cancelGracePeriod` to let go of it. */
  private cancel(task: Task, reason: string): void {
    task.done = true
    this.counters.cancelled++
    const thread = task.lease?.value
    if (thread === undefined || !thread.tasks.has(task.id)) return
    thread.cancel(task.id)
    const graceMs = OptionCheck.timerMillis(this.cancelGracePeriod)
    if (graceMs === undefined) return
    task.grace = setTimeout(() => {
      if (thread.tasks.has(task.id)) void thread.terminate(`${reason}: a task did not stop within cancelGracePeriod (${this.cancelGracePeriod} ms)`)
    }, graceMs)
  }

  /** A task's reply arrived, or its thread exited: free the thread, then tell the caller. */
  settle(task: Task, reply: ReplyMessage | undefined, exited: Exited | undefined): void {
    const lease = task.lease!
    const thread = lease.value
    this.counters.running--
    if (task.timer !== undefined) clearTimeout(task.timer)
    if (task.grace !== undefined) clearTimeout(task.grace)
    if (task.started !== 0) metrics.runTime.unsafeUpdate(performance.now() - task.started, this.tags)
    const handle = lease.handle!
    if (exited !== undefined) {
      lease.invalidate()
    } else if (thread.heapUsed > this.maxHeap) {
      this.retire(thread)
      lease.invalidate()
    }
    // the next queued task is posted to this thread right here, before the caller resumes; at
    // maxTasksPerWorker (the core's maxUses) the core retires the thread in this return
    lease.return()
    if (exited === undefined && handle.uses >= this.maxTasksPerWorker) this.retire(thread)
    if (task.done) return // cancelled: counted when its caller left
    task.done = true
    if (exited !== undefined) {
      this.counters.failed++
      task.resume(Effect.fail(this.exitError(exited)))
      return
    }
    switch (reply!.status) {
      case 0: {
        this.counters.completed++
        task.resume(Effect.succeed(reply!.value))
        return
      }
      case 1: {
        this.counters.failed++
        const error = deserializeError(reply!.error!)
        task.resume(Effect.fail(new TaskFailedError({
          threadId: thread.threadId,
          error,
          fields: reply!.error!.fields,
          message: `${error.name}: ${error.message}`
        })))
        return
      }
      default: {
        this.counters.cancelled++
        task.resume(Effect.interrupt)
        return
      }
    }
  }

  /** Counts a thread replaced for its task count or heap once. */
  private retire(thread: Thread): void {
    if (thread.retired) return
    thread.retired = true
    this.counters.recycles++
  }

  private exitError(exited: Exited): WorkerError {
    if (exited.terminatedBy === "close") return new PoolClosedError({ pool: this.poolName })
    const how = exited.terminatedBy !== undefined
      ? `was terminated (${exited.terminatedBy})`
      : exited.error !== undefined
      ? `crashed: ${errorLabel(exited.error)}`
      : `exited with code ${exited.exitCode}`
    return new WorkerCrashedError({
      threadId: exited.threadId,
      exitCode: exited.exitCode,
      error: exited.error,
      terminatedBy: exited.terminatedBy,
      message: `worker ${exited.threadId} of pool "${this.poolName}" ${how}`
    })
  }

  /** Copies the counters into the metrics (on `stats` and every second). */
  refreshMetrics(size: number): void {
    const c = this.counters
    for (const outcome of ["completed", "failed", "cancelled", "timedOut"] as const) {
      const delta = c[outcome] - this.reported[outcome]
      if (delta > 0) metrics.tasks.unsafeUpdate(delta, [...this.tags, MetricLabel.make("outcome", outcome)])
      this.reported[outcome] = c[outcome]
    }
    for (const name of ["crashes", "recycles"] as const) {
      const delta = c[name] - this.reported[name]
      if (delta > 0) metrics[name].unsafeUpdate(delta, this.tags)
      this.reported[name] = c[name]
    }
    metrics.running.unsafeUpdate(c.running, this.tags)
    metrics.utilization.unsafeUpdate(size === 0 ? 0 : c.running / (size * this.concurrency), this.tags)
  }
}

const inputError = (argument: string, reason: string): TaskInputError =>
  new TaskInputError({ argument, error: undefined, message: `invalid run option ${argument}: ${reason}` })

/** Checks the options of one `run` (the engine's `parseRunOptions`); a bad one is a `TaskInputError` naming it. */
const checkRunOptions = (options: RunOptions | undefined, taskTimeout: number): TaskInputError | ParsedRun => {
  const checked = OptionCheck.run("run", (check) => parseRunOptions(check, options, taskTimeout))
  return checked._tag === "Left" ? inputError(checked.left.option, checked.left.reason) : checked.right
}

/** Every option of `WorkerPool.make` (`Options`), and piscina's names for them. */
const optionKeys = [
  "filename", "name", "poolName", "minWorkers", "maxWorkers", "idleTimeout", "maxQueue", "concurrentTasksPerWorker",
  "taskTimeout", "cancelGracePeriod", "maxTasksPerWorker", "maxHeapUsedBeforeRecycle", "resourceLimits", "workerData",
  "env", "argv", "execArgv", "startupTimeout", "shutdownTimeout", "schema", "atomics",
  // piscina's names, same meaning (useAtomics: piscina 4's)
  "minThreads", "maxThreads", "useAtomics"
]
/** piscina options with another name (or none) here: the error says what to use. */
const foreignOptions: Record<string, string> = {
  closeTimeout: "shutdownTimeout",
  maxMemoryLimitBeforeRecycle: "maxHeapUsedBeforeRecycle",
  isolateWorkers: "maxTasksPerWorker: 1",
  terminateTimeout: "cancelGracePeriod",
  maxQueueSize: "maxQueue",
  workerType: "filename (worker_threads only)",
  recordTiming: "WorkerPool.stats and the effect_pool_worker_* metrics",
  niceIncrement: "nothing (not supported)",
  taskQueue: "nothing (the queue is the pool's FIFO; bound it with maxQueue)",
  trackUnmanagedFds: "nothing (not supported)",
  stdout: "nothing (threads' stdout goes to the parent's)",
  stderr: "nothing (threads' stderr goes to the parent's)",
  workerHistogram: "WorkerPool.stats",
  maxUses: "maxTasksPerWorker",
  min: "minWorkers",
  max: "maxWorkers",
  concurrency: "concurrentTasksPerWorker",
  maxWaiters: "maxQueue"
}
const resourceLimitKeys = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"]


/** The options of `make`, checked and normalised. */
export interface Parsed {
  readonly poolName: string
  readonly filename: string | URL
  readonly name: string
  readonly explicitName: boolean
  readonly minWorkers: number
  readonly maxWorkers: number
  readonly idleTimeout: number
  readonly maxQueue: number
  readonly concurrency: number
  readonly taskTimeout: number
  readonly cancelGracePeriod: number
  readonly maxTasksPerWorker: number
  readonly maxHeap: number
  readonly startupTimeout: number
  readonly shutdownTimeout: number
  readonly resourceLimits: ResourceLimits | undefined
  readonly env: NodeJS.ProcessEnv | typeof SHARE_ENV | undefined
  readonly argv: ReadonlyArray<string> | undefined
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly schema: { readonly input?: Schema.Schema<any, any, never> | undefined; readonly output?: Schema.Schema<any, any, never> | undefined } | undefined
  readonly atomics: AtomicsMode
}

const stringList = (check: OptionCheck.Checker, option: string, value: unknown): ReadonlyArray<string> | undefined => {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) check.fail(option, `must be an array of strings, got ${OptionCheck.describeValue(value)}`)
  const list = value as Array<unknown>
  list.forEach((item, i) => {
    if (typeof item !== "string") check.fail(`${option}[${i}]`, `must be a string, got ${OptionCheck.describeValue(item)}`)
  })
  return [...list] as Array<string>
}

const isSchema = (value: unknown): boolean => Schema.isSchema(value)

/** Checks every option of `make` (a `PoolConfigError` names the first bad one). */
export const parseOptions = (input: PoolOptions) => {
  const raw = input as unknown
  const label = OptionCheck.nameOf(raw, "worker", "poolName")
  return OptionCheck.run(label, (check): Parsed => {
    // every option read once, into a copy (a user's getter that throws is that option's error);
    // own properties only: a key inherited from a polluted Object.prototype (env, execArgv,
    // name) must not reach the threads
    const o = check.options(raw) as Record<string, unknown>
    check.known(o, optionKeys, foreignOptions)
    const poolName = check.string("poolName", o.poolName, "worker", { nonEmpty: true })
    const filename = o.filename
    if (!(filename instanceof URL)) {
      if (typeof filename !== "string" || filename.trim() === "") {
        check.fail("filename", `must be a path, a URL or a file: URL string, got ${OptionCheck.describeValue(filename)}`)
      }
      if ((filename as string).startsWith("file:") && !URL.canParse(filename as string)) check.fail("filename", `is not a valid file: URL: ${OptionCheck.describeValue(filename)}`)
    } else if (filename.protocol !== "file:" && filename.protocol !== "data:") {
      check.fail("filename", `must be a file: (or data:) URL, got ${filename.protocol}`)
    }
    const name = check.string("name", o.name, "default", { nonEmpty: true })
    const synonym = (ours: string, theirs: string): unknown => {
      if (o[ours] !== undefined && o[theirs] !== undefined && o[ours] !== o[theirs]) {
        check.fail(theirs, `is piscina's name for ${ours}, which is also given (${OptionCheck.describeValue(o[ours])}): give one`)
      }
      return o[ours] ?? o[theirs]
    }
    const minInput = synonym("minWorkers", "minThreads")
    const maxInput = synonym("maxWorkers", "maxThreads")
    const minOption = o.minWorkers !== undefined ? "minWorkers" : o.minThreads !== undefined ? "minThreads" : "minWorkers"
    const maxOption = o.maxWorkers !== undefined ? "maxWorkers" : o.maxThreads !== undefined ? "maxThreads" : "maxWorkers"
    const cores = availableParallelism()
    let maxWorkers = check.integer(maxOption, maxInput, cores, { min: 1 })
    const minDefault = Math.min(maxWorkers, Math.max(1, Math.floor(cores / 2)))
    const minWorkers = check.integer(minOption, minInput, minDefault, { min: 0 })
    if (minWorkers > maxWorkers) {
      // like piscina: a minWorkers above the default maxWorkers raises it; both given is an error
      if (maxInput === undefined) maxWorkers = minWorkers
      else check.fail(minOption, `must not exceed ${maxOption} (${maxWorkers}), got ${minWorkers}`)
    }
    const concurrency = check.integer("concurrentTasksPerWorker", o.concurrentTasksPerWorker, 1, { min: 1 })
    const maxQueue = o.maxQueue === "auto"
      ? maxWorkers * maxWorkers // piscina's "auto": maxThreads²
      : check.integer("maxQueue", o.maxQueue, Infinity, { min: 0, infinity: true })
    const idleTimeout = check.duration("idleTimeout", o.idleTimeout, 0, { zero: "allow", infinity: "none" })
    const taskTimeout = check.duration("taskTimeout", o.taskTimeout, Infinity, { zero: "reject", infinity: "none" })
    const cancelGracePeriod = check.duration("cancelGracePeriod", o.cancelGracePeriod, "1 second", { zero: "allow", infinity: "none" })
    const startupTimeout = check.duration("startupTimeout", o.startupTimeout, "30 seconds", { zero: "reject", infinity: "none" })
    const shutdownTimeout = check.duration("shutdownTimeout", o.shutdownTimeout, "10 seconds", { zero: "allow", infinity: "none" })
    const maxTasksPerWorker = check.integer("maxTasksPerWorker", o.maxTasksPerWorker, Infinity, { min: 1, infinity: true })
    const maxHeap = check.integer("maxHeapUsedBeforeRecycle", o.maxHeapUsedBeforeRecycle, Infinity, { min: 1, infinity: true })
    const limits = check.record("resourceLimits", o.resourceLimits)
    if (limits !== undefined) {
      check.known(limits, resourceLimitKeys, undefined, "resourceLimits.")
      for (const key of resourceLimitKeys) {
        if (limits[key] !== undefined) check.number(`resourceLimits.${key}`, limits[key], 0, { min: 0, minExclusive: true })
      }
    }
    let env: Parsed["env"]
    if (o.env !== undefined && o.env !== SHARE_ENV) {
      const record = check.record("env", o.env)!
      for (const [key, value] of Object.entries(record)) {
        if (value !== undefined && typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          check.fail(`env.${key}`, `must be a string, got ${OptionCheck.describeValue(value)}`)
        }
      }
      env = record as NodeJS.ProcessEnv
    } else env = o.env as Parsed["env"]
    if (o.workerData !== undefined && !isCloneable(o.workerData)) {
      check.fail("workerData", "cannot be cloned to a thread (it holds a function, a Symbol, a class instance with private state, or a port)")
    }
    const argv = stringList(check, "argv", o.argv)
    const execArgv = stringList(check, "execArgv", o.execArgv)
    const schema = check.record("schema", o.schema)
    if (schema !== undefined) {
      check.known(schema, ["input", "output"], undefined, "schema.")
      for (const key of ["input", "output"]) {
        if (schema[key] !== undefined && !isSchema(schema[key])) check.fail(`schema.${key}`, `must be a Schema, got ${OptionCheck.describeValue(schema[key])}`)
      }
    }
    // piscina's PISCINA_DISABLE_ATOMICS / PISCINA_ENABLE_ASYNC_ATOMICS, from the environment the threads get
    const atomics = parseAtomics(check, o.atomics, o.useAtomics, typeof env === "object" ? env : process.env)
    return {
      poolName,
      filename: filename as string | URL,
      name,
      explicitName: o.name !== undefined,
      minWorkers,
      maxWorkers,
      idleTimeout,
      maxQueue,
      concurrency,
      taskTimeout,
      cancelGracePeriod,
      maxTasksPerWorker,
      maxHeap,
      startupTimeout,
      shutdownTimeout,
      resourceLimits: limits as ResourceLimits | undefined,
      env,
      argv,
      execArgv,
      schema: schema as Parsed["schema"],
      atomics
    }
  })
}

/** `WorkerPool.make`. */
export const make = (options: PoolOptions): Effect.Effect<WorkerPoolShell, PoolConfigError | WorkerStartupError, Scope.Scope> =>
  Pool.closeOnFailure(Effect.gen(function*() {
    const o = yield* parseOptions(options)
    const poolName = o.poolName
    const minWorkers = o.minWorkers
    const encodeInput = o.schema?.input === undefined ? undefined : Schema.encode(o.schema.input)
    const decodeOutput = o.schema?.output === undefined ? undefined : Schema.decodeUnknown(o.schema.output)
    const threads = new Threads(
      poolName,
      {
        settings: { module: fileHref(o.filename), name: o.name, explicitName: o.explicitName, reportHeap: o.maxHeap !== Infinity, effects, park: parkingOf(o.atomics) },
        workerData: (options as { workerData?: unknown }).workerData,
        env: o.env,
        argv: o.argv,
        execArgv: o.execArgv,
        resourceLimits: o.resourceLimits,
        startupTimeout: o.startupTimeout
      }
    )
    const pool = yield* Pool.make({
      acquire: threads.acquire,
      name: poolName,
      min: minWorkers,
      max: o.maxWorkers,
      concurrency: o.concurrency,
      maxUses: o.maxTasksPerWorker, // piscina's name for it; a task never sent is returned unused
      maxWaiters: o.maxQueue,
      idleTimeout: o.idleTimeout,
      acquireTimeout: Infinity, // tasks wait in the queue as long as it takes (bound it with maxQueue)
      createTimeout: Infinity, // startupTimeout bounds a start, with a WorkerStartupError
      shutdownTimeout: o.shutdownTimeout,
      failWaitersOnCreateError: true, // a module that does not load fails the queue, never loops
      createRetry: Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced("5 seconds")))
    }).pipe(Effect.mapError((error) => new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })))
    // runs before the core pool closes (finalizers run in reverse): threads ended by the close
    // report PoolClosedError to their tasks
    yield* Effect.addFinalizer(() => Effect.sync(() => (threads.closing = true)))
    const shell = new WorkerPoolShell(
      threads,
      pool,
      o.taskTimeout,
      o.cancelGracePeriod,
      o.maxTasksPerWorker,
      o.maxHeap,
      o.concurrency,
      encodeInput as ((input: unknown) => Effect.Effect<unknown, WorkerError>) | undefined,
      decodeOutput as ((output: unknown) => Effect.Effect<unknown, WorkerError>) | undefined
    )
    const refresh = Effect.flatMap(Pool.stats(shell.pool), (s) => Effect.sync(() => shell.refreshMetrics(s.size)))
    yield* Effect.forkScoped(Effect.repeat(refresh, Schedule.spaced("1 second")))
    // make returns once all minWorkers threads are ready; a module that does not load fails make
    // (the first WorkerStartupError), and closeOnFailure stops every thread it started
    if (minWorkers > 0) {
      yield* Pool.awaitMin(shell.pool).pipe(Effect.catchTag("PoolTimeoutError", Effect.die))
    }
    return shell
  }))
