/**
 * The worker pool's Effect shell: a core `Pool` of threads (one item = one thread, `concurrency`
 * = tasks per thread), tasks borrowed through the core's lease API so that the reply that frees a
 * thread posts the next queued task in the same tick, and every fault turned into a typed error.
 *
 * @internal
 */
import { Pool, PoolClosedError, PoolConfigError } from "@effect-pool/core"
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
import type { TransferListItem } from "node:worker_threads"
import type { Options, RunOptions } from "../WorkerPool.js"
import { TaskFailedError, TaskTimeoutError, WorkerCrashedError, type WorkerError, WorkerStartupError } from "../WorkerError.js"
import { deserializeError, type ReplyMessage } from "./protocol.js"
import { type Exited, type PostedTask, type StartupFailure, taskId, Thread, type ThreadOptions } from "./thread.js"

/** The options of `WorkerPool.make`, as documented on the public type. */
export type PoolOptions = Options<any, any>

/** Counters of `WorkerPool.stats` beyond the core's. */
export interface Counters {
  completed: number
  failed: number
  cancelled: number
  timedOut: number
  crashes: number
  recycles: number
  started: number
  exited: number
  running: number
}

/** The core's option names, as users of this package know them. */
const optionNames: Record<string, string> = {
  min: "minWorkers",
  max: "maxWorkers",
  concurrency: "concurrentTasksPerWorker",
  maxWaiters: "maxQueue"
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

const fileHref = (filename: string | URL): string => {
  if (filename instanceof URL) return filename.href
  if (filename.startsWith("file:")) return new URL(filename).href
  return pathToFileURL(isAbsolute(filename) ? filename : resolve(filename)).href
}

/** A task from `run` to its end: borrowing, posted, settled. */
class Task implements PostedTask {
  readonly id = taskId()
  lease: Pool.Lease<Thread> | undefined = undefined
  /** The caller has its outcome (or was interrupted): a late reply only frees the thread. */
  done = false
  started = 0
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  grace: ReturnType<typeof setTimeout> | undefined = undefined
  constructor(
    readonly impl: WorkerPoolImpl,
    readonly resume: (effect: Effect.Effect<unknown, WorkerError>) => void
  ) {}

  settle(reply: ReplyMessage | undefined, exited: Exited | undefined): void {
    this.impl.settle(this, reply, exited)
  }
}

export class WorkerPoolImpl {
  readonly counters: Counters = {
    completed: 0,
    failed: 0,
    cancelled: 0,
    timedOut: 0,
    crashes: 0,
    recycles: 0,
    started: 0,
    exited: 0,
    running: 0
  }
  pool!: Pool.Pool<Thread, WorkerStartupError>
  closing = false
  /** Threads started and not yet exited. */
  readonly threads = new Set<Thread>()
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
    readonly poolName: string,
    readonly threadOptions: ThreadOptions,
    readonly taskTimeout: number,
    readonly cancelGracePeriod: number,
    readonly maxTasksPerWorker: number,
    readonly maxHeap: number,
    readonly concurrency: number,
    readonly encode: ((input: unknown) => Effect.Effect<unknown, WorkerError>) | undefined,
    readonly decode: ((output: unknown) => Effect.Effect<unknown, WorkerError>) | undefined
  ) {
    this.tags = [MetricLabel.make("pool", poolName)]
  }

  /** Starts one thread: the core pool's `acquire`. */
  readonly acquire: Effect.Effect<Thread, WorkerStartupError, Scope.Scope> = Effect.acquireRelease(
    Effect.async<Thread, WorkerStartupError>((resume) => {
      this.counters.started++
      const thread: Thread = new Thread(this.threadOptions, (failure: StartupFailure | undefined) => {
        if (failure === undefined) {
          this.threads.add(thread)
          return resume(Effect.succeed(thread))
        }
        const cause = failure.error === undefined ? "" : `: ${failure.error.name}: ${failure.error.message}`
        resume(Effect.fail(new WorkerStartupError({
          threadId: failure.threadId,
          error: failure.error,
          message: `worker ${failure.threadId} of pool "${this.poolName}" ${failure.reason}${cause}`
        })))
      })
      thread.onExit = this.onExit
      return Effect.promise(() => thread.terminate("startup interrupted"))
    }),
    (thread) => Effect.promise(() => thread.terminate(this.closing ? "close" : "evicted"))
  )

  private readonly onExit = (thread: Thread, exited: Exited): void => {
    this.counters.exited++
    this.threads.delete(thread)
    if (exited.terminatedBy !== undefined || !thread.ready) return
    this.counters.crashes++
    // an idle thread that died leaves the pool now; a borrowed one when its tasks return it
    if (thread.tasks.size === 0 && this.pool !== undefined) Effect.runSync(Pool.invalidate(this.pool, thread))
  }

  /** Threads running at least one task. */
  busyThreads(): number {
    let busy = 0
    for (const thread of this.threads) if (thread.tasks.size > 0) busy++
    return busy
  }

  /** `WorkerPool.run`. */
  run(input: unknown, options: RunOptions | undefined): Effect.Effect<unknown, WorkerError> {
    const timeout = options?.timeout === undefined ? this.taskTimeout : Duration.toMillis(options.timeout)
    const name = options?.name
    const transfer = options?.transfer
    const run = (payload: unknown) =>
      Effect.async<unknown, WorkerError>((resume) => {
        const task = new Task(this, resume)
        const cancelBorrow = Pool.unsafeBorrow(this.pool, (lease, failure) => {
          if (lease === undefined) return resume(Effect.failCause(failure as Cause.Cause<WorkerError>))
          this.start(task, lease, payload, name, transfer, timeout)
        })
        return Effect.sync(() => {
          if (task.lease !== undefined) return this.cancel(task, "interrupted")
          cancelBorrow()
          this.counters.cancelled++
        })
      })
    let effect = this.encode === undefined ? run(input) : Effect.flatMap(this.encode(input), run)
    if (this.decode !== undefined) effect = Effect.flatMap(effect, this.decode)
    return effect
  }

  private start(
    task: Task,
    lease: Pool.Lease<Thread>,
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
      Pool.unsafeReturn(this.pool, lease, Exit.void)
      task.done = true
      task.resume(Effect.die(error))
      return
    }
    this.counters.running++
    if ((++this.sampled & RUN_SAMPLE_MASK) === 0) task.started = performance.now()
    if (timeout !== Infinity) {
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
      }, timeout)
    }
  }

  /** Stops a running task: its caller is done; the thread gets `cancelGracePeriod` to let go of it. */
  private cancel(task: Task, reason: string): void {
    task.done = true
    this.counters.cancelled++
    const thread = task.lease?.value
    if (thread === undefined || !thread.tasks.has(task.id)) return
    thread.cancel(task.id)
    if (this.cancelGracePeriod === Infinity) return
    task.grace = setTimeout(() => {
      if (thread.tasks.has(task.id)) void thread.terminate(`${reason}: a task did not stop within cancelGracePeriod (${this.cancelGracePeriod} ms)`)
    }, this.cancelGracePeriod)
  }

  /** A task's reply arrived, or its thread exited: free the thread, then tell the caller. */
  settle(task: Task, reply: ReplyMessage | undefined, exited: Exited | undefined): void {
    const lease = task.lease!
    const thread = lease.value
    this.counters.running--
    if (task.timer !== undefined) clearTimeout(task.timer)
    if (task.grace !== undefined) clearTimeout(task.grace)
    if (task.started !== 0) metrics.runTime.unsafeUpdate(performance.now() - task.started, this.tags)
    if (exited !== undefined) {
      Pool.unsafeInvalidate(this.pool, lease)
    } else if (thread.tasksRun >= this.maxTasksPerWorker || thread.heapUsed > this.maxHeap) {
      if (!thread.retired) {
        thread.retired = true
        this.counters.recycles++
      }
      Pool.unsafeInvalidate(this.pool, lease)
    }
    // the next queued task is posted to this thread right here, before the caller resumes
    Pool.unsafeReturn(this.pool, lease, Exit.void)
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

  private exitError(exited: Exited): WorkerError {
    if (exited.terminatedBy === "close") return new PoolClosedError({ pool: this.poolName })
    const how = exited.terminatedBy !== undefined
      ? `was terminated (${exited.terminatedBy})`
      : exited.error !== undefined
      ? `crashed: ${exited.error.name}: ${exited.error.message}`
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

const positive = (poolName: string, option: string, value: number | undefined, fallback: number, least: number) =>
  Effect.suspend(() => {
    const n = value ?? fallback
    return typeof n === "number" && !Number.isNaN(n) && n >= least && (n === Infinity || Number.isInteger(n))
      ? Effect.succeed(n)
      : Effect.fail(new PoolConfigError({ pool: poolName, option, reason: `must be a whole number of at least ${least}, got ${String(n)}` }))
  })

/** `WorkerPool.make`. */
export const make = (options: PoolOptions): Effect.Effect<WorkerPoolImpl, PoolConfigError | WorkerStartupError, Scope.Scope> =>
  Effect.gen(function*() {
    const poolName = options.poolName ?? "worker"
    const duration = (option: string, input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
      Pool.durationOption(poolName, option, input, fallback)
    const taskTimeout = yield* duration("taskTimeout", options.taskTimeout, Infinity)
    const cancelGracePeriod = yield* duration("cancelGracePeriod", options.cancelGracePeriod, "1 second")
    const startupTimeout = yield* duration("startupTimeout", options.startupTimeout, "30 seconds")
    const maxTasksPerWorker = yield* positive(poolName, "maxTasksPerWorker", options.maxTasksPerWorker, Infinity, 1)
    const maxHeap = yield* positive(poolName, "maxHeapUsedBeforeRecycle", options.maxHeapUsedBeforeRecycle, Infinity, 1)
    const maxWorkers = yield* positive(poolName, "maxWorkers", options.maxWorkers, availableParallelism(), 1)
    const minWorkers = options.minWorkers ?? Math.min(maxWorkers, Math.max(1, Math.floor(availableParallelism() / 2)))
    const concurrency = options.concurrentTasksPerWorker ?? 1
    const filename = options.filename
    if (!(filename instanceof URL) && (typeof filename !== "string" || filename === "")) {
      return yield* new PoolConfigError({ pool: poolName, option: "filename", reason: `must be a path, a URL or a file: URL string, got ${String(filename)}` })
    }
    const schema = options.schema
    const encodeInput = schema?.input === undefined ? undefined : Schema.encode(schema.input)
    const decodeOutput = schema?.output === undefined ? undefined : Schema.decodeUnknown(schema.output)
    const impl = new WorkerPoolImpl(
      poolName,
      {
        settings: { module: fileHref(filename), name: options.name ?? "default", reportHeap: maxHeap !== Infinity },
        workerData: options.workerData,
        env: options.env,
        execArgv: options.execArgv,
        resourceLimits: options.resourceLimits,
        startupTimeout
      },
      taskTimeout,
      cancelGracePeriod,
      maxTasksPerWorker,
      maxHeap,
      concurrency,
      encodeInput as ((input: unknown) => Effect.Effect<unknown, WorkerError>) | undefined,
      decodeOutput as ((output: unknown) => Effect.Effect<unknown, WorkerError>) | undefined
    )
    impl.pool = yield* Pool.make({
      acquire: impl.acquire,
      name: poolName,
      min: minWorkers,
      max: maxWorkers,
      concurrency,
      maxWaiters: options.maxQueue,
      idleTimeout: options.idleTimeout ?? 0,
      acquireTimeout: Infinity, // tasks wait in the queue as long as it takes (bound it with maxQueue)
      createTimeout: Infinity, // startupTimeout bounds a start, with a WorkerStartupError
      shutdownTimeout: options.shutdownTimeout,
      failWaitersOnCreateError: true, // a module that does not load fails the queue, never loops
      createRetry: Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced("5 seconds")))
    }).pipe(Effect.mapError((error) => new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })))
    // runs before the core pool closes (finalizers run in reverse): threads ended by the close
    // report PoolClosedError to their tasks
    yield* Effect.addFinalizer(() => Effect.sync(() => (impl.closing = true)))
    const refresh = Effect.flatMap(Pool.stats(impl.pool), (s) => Effect.sync(() => impl.refreshMetrics(s.size)))
    yield* Effect.forkScoped(Effect.repeat(refresh, Schedule.spaced("1 second")))
    // with minWorkers ≥ 1, a module that does not load fails make, not the first task
    // (with maxQueue 0 the probe cannot wait for the warm-up: then the first task reports it)
    if (minWorkers > 0) {
      yield* Pool.use(impl.pool, () => Effect.void).pipe(
        Effect.catchTags({ PoolQueueFullError: () => Effect.void, PoolTimeoutError: Effect.die, PoolClosedError: Effect.die })
      )
    }
    return impl
  })
