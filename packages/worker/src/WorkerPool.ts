/**
 * A pool of `worker_threads` workers that run tasks from a module: piscina's worker files, an
 * Effect API, and every fault (a crash, a hang, a module that does not load, a leak) turned into
 * a typed error while the pool keeps its size.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * // hash.js: export default ({ text }) => createHash("sha256").update(text).digest("hex")
 * const program = Effect.gen(function*() {
 *   const pool = yield* WorkerPool.make<{ text: string }, string>({ filename: new URL("./hash.js", import.meta.url) })
 *   return yield* WorkerPool.run(pool, { text: "hello" })
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import type { PoolConfigError } from "@effect-pool/core"
import { Pool } from "@effect-pool/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { ResourceLimits, TransferListItem } from "node:worker_threads"
import { type HandlerDefinition, HandlerTypeId } from "./internal/handler.js"
import * as internal from "./internal/pool.js"
import type { WorkerError, WorkerStartupError } from "./WorkerError.js"

/**
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * declare const value: unknown
 * const isPool = typeof value === "object" && value !== null && WorkerPool.TypeId in value
 * ```
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@effect-pool/worker/WorkerPool")

/**
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * const id: WorkerPool.TypeId = WorkerPool.TypeId
 * ```
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A pool of worker threads taking inputs `I` and giving outputs `O`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Context } from "effect"
 *
 * class Hasher extends Context.Tag("Hasher")<Hasher, WorkerPool.WorkerPool<{ text: string }, string>>() {}
 * ```
 * @since 0.1.0
 * @category models
 */
export interface WorkerPool<in I, out O> extends Pipeable {
  readonly [TypeId]: { readonly _I: (_: I) => void; readonly _O: () => O }
  /** The pool's label in metrics and errors (`poolName`). */
  readonly name: string
}

/**
 * Options of `make`; defaults (in brackets) follow piscina's where it has one.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * const options: WorkerPool.Options<number[], number> = {
 *   filename: new URL("./sum.js", import.meta.url),
 *   maxWorkers: 4,
 *   concurrentTasksPerWorker: 1,
 *   taskTimeout: "10 seconds",
 *   maxTasksPerWorker: 10_000,
 *   resourceLimits: { maxOldGenerationSizeMb: 256 }
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Options<I = unknown, O = unknown> {
  /** The worker module: a path (relative to the working directory), a `URL`, or a `file:` URL string. Loaded like piscina: `require()` first, `import()` for ES modules; a `.ts` file through tsx's require hook when tsx resolves from it (README "TypeScript worker files"). */
  readonly filename: string | URL
  /** The module's export that handles tasks (a task may name another); piscina's `name`. Given and missing: `make` fails with `WorkerStartupError`; not given and missing: only tasks that use the default fail. ["default"] */
  readonly name?: string | undefined
  /** The pool's label in metrics, logs and errors (core's `name`; `name` here is piscina's export name). Non-empty string. ["worker"] */
  readonly poolName?: string | undefined
  /** Threads kept alive even when idle; `make` returns once they are all ready, and fails if one cannot start. Whole number ≥ 0. Above the default `maxWorkers` it raises it (like piscina); above a given `maxWorkers` it is a `PoolConfigError`. [max(1, ⌊availableParallelism / 2⌋), at most maxWorkers] */
  readonly minWorkers?: number | undefined
  /** piscina's name for `minWorkers` (accepted; giving both with different values is a `PoolConfigError`). */
  readonly minThreads?: number | undefined
  /** Most threads alive at once. Whole number ≥ 1 (not Infinity). [os.availableParallelism()] */
  readonly maxWorkers?: number | undefined
  /** piscina's name for `maxWorkers`. */
  readonly maxThreads?: number | undefined
  /** Idle threads beyond `minWorkers` end after this long without a task. 0: at the next housekeeping tick; Infinity (or past 24.8 days): never. [0] */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Most tasks waiting beyond what running and starting threads can take; more fail at once with `PoolQueueFullError`. Whole number ≥ 0, Infinity, or piscina's `"auto"` (maxWorkers²). 0: no waiting at all. [Infinity] */
  readonly maxQueue?: number | "auto" | undefined
  /** Tasks one thread runs at once (for handlers that wait on I/O). Whole number ≥ 1. [1] */
  readonly concurrentTasksPerWorker?: number | undefined
  /** Longest a task may run on a thread (queue time not counted) before `TaskTimeoutError`. > 0 (0 is a `PoolConfigError`); Infinity, or past 24.8 days: none. [none] */
  readonly taskTimeout?: Duration.DurationInput | undefined
  /** After a cancel (interrupt or timeout), how long the thread gets to stop the task before it is terminated and replaced. 0: terminated at once; Infinity (or past 24.8 days): never terminated. [1 second] */
  readonly cancelGracePeriod?: Duration.DurationInput | undefined
  /** A thread is replaced after running this many tasks. Whole number ≥ 1 or Infinity. [Infinity] */
  readonly maxTasksPerWorker?: number | undefined
  /** A thread is replaced after a task leaves its heap above this many bytes. Whole number ≥ 1 or Infinity. [none] */
  readonly maxHeapUsedBeforeRecycle?: number | undefined
  /** Node's limits per thread (`maxOldGenerationSizeMb`, `maxYoungGenerationSizeMb`, `codeRangeSizeMb`, `stackSizeMb`, each > 0); a thread exceeding them ends with `WorkerCrashedError` (`ERR_WORKER_OUT_OF_MEMORY`). [none] */
  readonly resourceLimits?: ResourceLimits | undefined
  /** Given to every thread as `require("node:worker_threads").workerData` (and piscina's `Piscina.workerData`); must be cloneable. [undefined] */
  readonly workerData?: unknown
  /** The threads' `process.env`: an object of strings (numbers and booleans become strings), or `SHARE_ENV`. [a copy of the parent's] */
  readonly env?: NodeJS.ProcessEnv | typeof import("node:worker_threads").SHARE_ENV | undefined
  /** Appended to the threads' `process.argv` (array of strings). [none] */
  readonly argv?: ReadonlyArray<string> | undefined
  /** Node options of the threads (array of strings). [the parent's] */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** Longest a thread may take to load its module before `WorkerStartupError`. > 0; Infinity (or past 24.8 days): none. [30 seconds] */
  readonly startupTimeout?: Duration.DurationInput | undefined
  /** On close, how long running tasks get to finish before their threads are terminated (they fail with `PoolClosedError`). 0: at once; Infinity: wait for them. [10 seconds] */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /**
   * Schemas for the input and output: the input is encoded before it is sent (a bad input fails
   * with `ParseError` and never reaches a thread), the output decoded when it comes back. The
   * worker's `WorkerPool.handler` with the same Schemas decodes/encodes on its side. [none]
   */
  readonly schema?: {
    readonly input?: Schema.Schema<I, any, never> | undefined
    readonly output?: Schema.Schema<O, any, never> | undefined
  } | undefined
  /**
   * How an idle thread waits for its next task (piscina's option and values). `"sync"`: it parks
   * briefly in `Atomics.wait` and takes a task posted meanwhile in the same tick, without an
   * event-loop wake-up — at most ~2 ms at a time, so timers and I/O a task left behind run late by
   * at most that (its promise callbacks run before its result is posted, as in piscina); never once the thread has loaded an Effect runtime (an Effect handler), nor
   * while its stdout/stderr is flushing. `"disabled"`: it never blocks, it waits in its event
   * loop. `"async"` (piscina's `Atomics.waitAsync`, for threads with open handles): the same as
   * `"disabled"` here. `Stats.parked` counts the tasks taken parked. As in piscina,
   * `PISCINA_DISABLE_ATOMICS=1` in the threads' environment (`env`, else the process's) makes
   * any mode `"disabled"`, and `PISCINA_ENABLE_ASYNC_ATOMICS=1` makes `"sync"` `"async"`. ["sync"]
   */
  readonly atomics?: "sync" | "async" | "disabled" | undefined
  /** piscina 4's boolean for `atomics`: `true` is `"sync"`, `false` is `"disabled"` (giving both, disagreeing, is a `PoolConfigError`). */
  readonly useAtomics?: boolean | undefined
}

/**
 * Options of one `run`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * const pixels = new ArrayBuffer(1024)
 * const options: WorkerPool.RunOptions = { transfer: [pixels], name: "blur", timeout: "2 seconds" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** Moved to the thread, not copied (the sender's copy is detached). */
  readonly transfer?: ReadonlyArray<TransferListItem> | undefined
  /** The module's export to run instead of the pool's `name`. */
  readonly name?: string | undefined
  /** This task's timeout, instead of `taskTimeout`: > 0; Infinity (or past 24.8 days) for none. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A snapshot of the pool: threads, tasks and what became of them.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * const line = (s: WorkerPool.Stats) => `${s.busy}/${s.workers} busy, ${s.queued} queued, ${s.crashes} crashes`
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Stats extends Pool.PoolStats {
  readonly name: string
  /** Threads alive (started, not ended). */
  readonly workers: number
  /** Threads running at least one task. */
  readonly busy: number
  /** Threads running none. */
  readonly idle: number
  /** Tasks waiting for a thread. */
  readonly queued: number
  /** Tasks on threads now. */
  readonly running: number
  /** Tasks that succeeded. */
  readonly completed: number
  /** Tasks that failed (their handler's error or their thread's). */
  readonly failed: number
  /** Tasks cancelled by interruption or timeout. */
  readonly cancelled: number
  /** Tasks that timed out (also counted in `cancelled`). */
  readonly timedOut: number
  /** Threads that crashed (exited without the pool ending them). */
  readonly crashes: number
  /** Threads replaced after `maxTasksPerWorker` or `maxHeapUsedBeforeRecycle`. */
  readonly recycles: number
  /** Threads started, and threads exited, since the pool was made. */
  readonly started: number
  readonly exited: number
  /** Tasks a thread took while parked between tasks (`atomics: "sync"`) rather than through its event loop; 0 with `"disabled"`. */
  readonly parked: number
  /** The core pool's stats (threads as items); also spread at the top level, like every kind's. */
  readonly pool: Pool.PoolStats
}

/** The public handle: types `I`/`O` over the internal `WorkerPoolShell` that does the work. */
class WorkerPoolImpl<I, O> implements WorkerPool<I, O> {
  readonly [TypeId] = { _I: (_: I) => {}, _O: () => undefined as O }
  constructor(readonly shell: internal.WorkerPoolShell) {}
  get name(): string {
    return this.shell.poolName
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
}

const shellOf = <I, O>(self: WorkerPool<I, O>): internal.WorkerPoolShell => (self as WorkerPoolImpl<I, O>).shell

/**
 * A handler made with `handler`: the worker module exports it, `make<typeof import(…).default>`
 * reads its input and output types.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * declare const resize: WorkerPool.Handler<{ width: number }, Uint8Array>
 * ```
 * @since 0.1.0
 * @category worker side
 */
export interface Handler<I, O> extends HandlerDefinition {
  readonly _I?: (_: I) => void
  readonly _O?: () => O
}

/** What a plain handler's output may be. */
type Output<R> = R extends Effect.Effect<infer A, any, any> ? A : Awaited<R>

/**
 * The input type of a handler type (or `H` itself when `O` is given).
 *
 * @example
 * ```ts
 * import type { WorkerPool } from "@effect-pool/worker"
 *
 * type I = WorkerPool.InputOf<(input: { n: number }) => number> // { n: number }
 * ```
 * @since 0.1.0
 * @category type-level
 */
export type InputOf<H, O = never> = [O] extends [never]
  ? H extends Handler<infer I, any> ? I : H extends (input: infer I, ...rest: Array<any>) => any ? I : H
  : H

/**
 * The output type of a handler type: a plain value, a Promise's or an Effect's (or `O` when given).
 *
 * @example
 * ```ts
 * import type { WorkerPool } from "@effect-pool/worker"
 *
 * type O = WorkerPool.OutputOf<(input: { n: number }) => Promise<string>> // string
 * ```
 * @since 0.1.0
 * @category type-level
 */
export type OutputOf<H, O = never> = [O] extends [never]
  ? H extends Handler<any, infer A> ? A : H extends (...args: Array<any>) => infer R ? Output<R> : unknown
  : O

/**
 * Starts a pool in the current scope: `minWorkers` threads are started (a module that does not
 * load fails `make` with `WorkerStartupError`); closing the scope lets running tasks finish up
 * to `shutdownTimeout`, then ends every thread. Bad options fail with `PoolConfigError`.
 * Give the types as `make<Input, Output>` or as `make<typeof import("./task.js").default>`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const pool = yield* WorkerPool.make<{ a: number; b: number }, number>({
 *     filename: new URL("./add.js", import.meta.url),
 *     minWorkers: 2,
 *     maxWorkers: 4
 *   })
 *   return yield* WorkerPool.run(pool, { a: 1, b: 2 })
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = <H = unknown, O = never>(
  options: Options<InputOf<H, O>, OutputOf<H, O>>
): Effect.Effect<WorkerPool<InputOf<H, O>, OutputOf<H, O>>, PoolConfigError | WorkerStartupError, Scope.Scope> =>
  makeTyped(options)

const makeTyped = <I, O>(options: Options<I, O>): Effect.Effect<WorkerPool<I, O>, PoolConfigError | WorkerStartupError, Scope.Scope> =>
  Effect.map(internal.make(options), (shell) => new WorkerPoolImpl<I, O>(shell))

/**
 * A `Layer` providing a pool under `tag`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Context, Effect } from "effect"
 *
 * class Hasher extends Context.Tag("Hasher")<Hasher, WorkerPool.WorkerPool<string, string>>() {}
 * const HasherLive = WorkerPool.layer(Hasher, { filename: "./dist/hash.js", maxWorkers: 4 })
 *
 * const program = Effect.flatMap(Hasher, (pool) => WorkerPool.run(pool, "hello"))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = <Id, I, O>(
  tag: Context.Tag<Id, WorkerPool<I, O>>,
  options: Options<I, O>
): Layer.Layer<Id, PoolConfigError | WorkerStartupError> => Layer.scoped(tag, makeTyped(options))

/**
 * The options `layerConfig` reads from `Config`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 *
 * const sizing: WorkerPool.ConfigOptions = { filename: "./dist/hash.js", maxWorkers: 8, taskTimeout: "5 seconds" }
 * ```
 * @since 0.1.0
 * @category models
 */
export type ConfigOptions = { readonly filename: string } & Pick<
  Options,
  | "name"
  | "poolName"
  | "minWorkers"
  | "maxWorkers"
  | "idleTimeout"
  | "maxQueue"
  | "concurrentTasksPerWorker"
  | "taskTimeout"
  | "cancelGracePeriod"
  | "maxTasksPerWorker"
  | "maxHeapUsedBeforeRecycle"
  | "startupTimeout"
  | "shutdownTimeout"
>

/**
 * `layer` with its settings read from `Config` (the rest — Schemas, `workerData`, `env`,
 * `resourceLimits` — given in code). A missing or malformed setting fails the layer with a
 * `ConfigError`, a bad value with `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Config, Context } from "effect"
 *
 * class Hasher extends Context.Tag("Hasher")<Hasher, WorkerPool.WorkerPool<string, string>>() {}
 * const HasherLive = WorkerPool.layerConfig(Hasher, {
 *   filename: Config.string("HASH_WORKER").pipe(Config.withDefault("./dist/hash.js")),
 *   maxWorkers: Config.integer("HASH_THREADS").pipe(Config.withDefault(4))
 * })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <Id, I, O>(
  tag: Context.Tag<Id, WorkerPool<I, O>>,
  config: Config.Config.Wrap<ConfigOptions>,
  options?: Omit<Options<I, O>, keyof ConfigOptions> | undefined
): Layer.Layer<Id, ConfigError.ConfigError | PoolConfigError | WorkerStartupError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (settings) => layer(tag, { ...options, ...settings })))

/**
 * Runs one task on a thread of the pool. An input that cannot be cloned, a bad `transfer`,
 * `timeout` or `name`, or an unknown option fails with `TaskInputError` (nothing is sent, the
 * thread stays). A per-task `signal` is not an option: interrupt the fiber instead. Interrupting the calling fiber cancels the task: the
 * handler's `signal` aborts, an Effect handler is interrupted, and a thread that has not let go
 * of it within `cancelGracePeriod` is terminated and replaced.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const pool: WorkerPool.WorkerPool<{ a: number; b: number }, number>
 * const sum = WorkerPool.run(pool, { a: 1, b: 2 })
 * const many = Effect.forEach([1, 2, 3], (a) => WorkerPool.run(pool, { a, b: a }), { concurrency: "unbounded" })
 * const piped = pool.pipe(WorkerPool.run({ a: 2, b: 3 }, { timeout: "1 second" }))
 * ```
 * @since 0.1.0
 * @category running
 */
export const run: {
  <I>(input: NoInfer<I>, options?: RunOptions): <O>(self: WorkerPool<I, O>) => Effect.Effect<O, WorkerError>
  <I, O>(self: WorkerPool<I, O>, input: NoInfer<I>, options?: RunOptions): Effect.Effect<O, WorkerError>
} = dual(
  (args) => typeof args[0] === "object" && args[0] !== null && TypeId in args[0],
  <I, O>(self: WorkerPool<I, O>, input: I, options?: RunOptions): Effect.Effect<O, WorkerError> =>
    shellOf(self).run(input, options) as Effect.Effect<O, WorkerError>
)

/**
 * A snapshot of the pool (also refreshes its metrics).
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const pool: WorkerPool.WorkerPool<string, string>
 * const report = Effect.flatMap(WorkerPool.stats(pool), (s) => Effect.log(`${s.busy}/${s.workers} busy, ${s.queued} queued`))
 * ```
 * @since 0.1.0
 * @category observability
 */
export const stats = <I, O>(self: WorkerPool<I, O>): Effect.Effect<Stats> => {
  const shell = shellOf(self)
  return Effect.map(Pool.stats(shell.pool), (pool) => {
    shell.refreshMetrics(pool.size)
    const busy = shell.busyThreads()
    const c = shell.counters
    return {
      ...pool,
      name: shell.poolName,
      workers: pool.size,
      busy,
      idle: pool.size - busy,
      queued: pool.waiting,
      running: c.running,
      completed: c.completed,
      failed: c.failed,
      cancelled: c.cancelled,
      timedOut: c.timedOut,
      crashes: c.crashes,
      recycles: c.recycles,
      started: c.started,
      exited: c.exited,
      parked: shell.parkedTasks(),
      pool
    }
  })
}

/**
 * Worker side: a handler with services and/or Schemas, exported by a worker module. With a
 * `layer`, the layer is built once per thread (a failure is a `WorkerStartupError`) and the
 * handler's Effect gets its services; with `input`/`output` Schemas the thread decodes the input
 * and encodes the output (give the pool the same Schemas in `schema`).
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@effect-pool/worker"
 * import { Context, Effect, Layer, Schema } from "effect"
 *
 * class Salt extends Context.Tag("Salt")<Salt, string>() {}
 *
 * // task.js (the worker module)
 * export default WorkerPool.handler(
 *   { layer: Layer.succeed(Salt, "s3"), input: Schema.Struct({ text: Schema.String }), output: Schema.String },
 *   ({ text }, { signal }) => Effect.map(Salt, (salt) => (signal.aborted ? "" : `${salt}:${text}`))
 * )
 * // or, with services only: WorkerPool.handler(Layer.succeed(Salt, "s3"), (text: string) => Effect.map(Salt, (s) => s + text))
 * ```
 * @since 0.1.0
 * @category worker side
 */
export const handler: {
  <I, O, R, LE = never>(
    layer: Layer.Layer<R, LE, never>,
    f: (input: I, context: { readonly signal: AbortSignal }) => Effect.Effect<O, any, NoInfer<R>> | Promise<O> | O
  ): Handler<I, O>
  <IA = unknown, II = unknown, OA = unknown, OI = unknown, R = never, LE = never>(
    definition: {
      readonly input?: Schema.Schema<IA, II, never> | undefined
      readonly output?: Schema.Schema<OA, OI, never> | undefined
      readonly layer?: Layer.Layer<R, LE, never> | undefined
    },
    f: (input: IA, context: { readonly signal: AbortSignal }) => Effect.Effect<OA, any, NoInfer<R>> | Promise<OA> | OA
  ): Handler<IA, OA>
} = (definition: any, f: any): any => {
  const isLayer = Layer.isLayer(definition)
  return {
    [HandlerTypeId]: HandlerTypeId,
    layer: isLayer ? definition : definition.layer,
    input: isLayer ? undefined : definition.input,
    output: isLayer ? undefined : definition.output,
    f
  } satisfies HandlerDefinition
}

/**
 * The errors `make` can fail with besides bad options.
 *
 * @example
 * ```ts
 * import type { WorkerPool } from "@effect-pool/worker"
 *
 * const tags: Array<WorkerPool.MakeError["_tag"]> = ["PoolConfigError", "WorkerStartupError"]
 * ```
 * @since 0.1.0
 * @category models
 */
export type MakeError = PoolConfigError | WorkerStartupError
