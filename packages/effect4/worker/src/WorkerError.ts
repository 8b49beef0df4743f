/**
 * The typed errors of a worker pool. Each names the thread (`threadId`) it happened on.
 *
 * @since 4.0.0
 */
import type { PoolClosedError, PoolQueueFullError } from "@effect-pool/core"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type { SchemaError } from "effect/Schema"

/**
 * The handler failed (threw, rejected, or its Effect failed): its error crossed the thread with
 * its name, message, stack and own fields (`error` is rebuilt from them, `fields` holds them).
 * The worker lives on.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const handled = Effect.catchTag(task, "TaskFailedError", (e) => Effect.succeed(e.fields.code === "ENOENT" ? 0 : -1))
 * ```
 * @since 4.0.0
 * @category errors
 */
export class TaskFailedError extends Data.TaggedError("TaskFailedError")<{
  readonly threadId: number
  /** The handler's error, rebuilt: same `name`, `message`, `stack` and own fields. */
  readonly error: Error
  /** The error's own fields (`code`, a tagged error's `_tag` and data, …). */
  readonly fields: Readonly<Record<string, unknown>>
  readonly message: string
}> {}

/**
 * The thread running the task ended: `process.exit`, an uncaught error (also one thrown from a
 * timer mid-task), `resourceLimits` exceeded (`error.code` `ERR_WORKER_OUT_OF_MEMORY`), or the
 * pool ended it (`terminatedBy`: another task on it would not stop). A replacement is started
 * as needed; only that thread's tasks fail.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const retried = Effect.retry(task, { while: (e) => e._tag === "WorkerCrashedError", times: 1 })
 * ```
 * @since 4.0.0
 * @category errors
 */
export class WorkerCrashedError extends Data.TaggedError("WorkerCrashedError")<{
  readonly threadId: number
  readonly exitCode: number
  /** The uncaught error that ended the thread, if one did. */
  readonly error: Error | undefined
  /** Why the pool ended the thread itself, when it did. */
  readonly terminatedBy: string | undefined
  readonly message: string
}> {}

/**
 * The task ran longer than `taskTimeout` (or the call's `timeout`). Its signal was aborted; a
 * thread that did not stop within `cancelGracePeriod` was terminated and replaced.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const fallback = Effect.catchTag(task, "TaskTimeoutError", () => Effect.succeed(0))
 * ```
 * @since 4.0.0
 * @category errors
 */
export class TaskTimeoutError extends Data.TaggedError("TaskTimeoutError")<{
  readonly threadId: number
  readonly timeout: Duration.Duration
  readonly message: string
}> {}

/**
 * A worker did not start: its module failed to load (`error` is the import error), its layer
 * failed to build, it exited or did not report ready within `startupTimeout`. Never retried in a
 * loop: with `minWorkers` ≥ 1 `make` fails; otherwise every queued task fails with it.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const logged = Effect.tapErrorTag(task, "WorkerStartupError", (e) => Effect.logError(e.message, e.error))
 * ```
 * @since 4.0.0
 * @category errors
 */
export class WorkerStartupError extends Data.TaggedError("WorkerStartupError")<{
  readonly threadId: number
  /** The module's import error (or the uncaught error at start), when there was one. */
  readonly error: Error | undefined
  readonly message: string
}> {}

/**
 * A `run` argument the pool cannot send: an input that cannot be cloned (a function, a Symbol,
 * an object holding one), a `transfer` list that is not one of transferable objects (or holds one
 * already detached), a per-call `timeout` that is not a duration, a `name` that is not a non-empty
 * string, or an unknown per-call option. Nothing reached a thread; the thread stays in the pool.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const handled = Effect.catchTag(task, "TaskInputError", (e) => Effect.succeed(e.argument === "input" ? -1 : -2))
 * ```
 * @since 4.0.0
 * @category errors
 */
export class TaskInputError extends Data.TaggedError("TaskInputError")<{
  /** The argument at fault: `"input"`, `"transfer"`, `"timeout"`, `"name"`, or an unknown option's key. */
  readonly argument: string
  /** The error `postMessage` threw, when it did. */
  readonly error: Error | undefined
  readonly message: string
}> {}

/**
 * Every way `WorkerPool.run` can fail: the task's own failure, its thread's, its timeout, no
 * thread to run it on, a full queue, a closed pool, or input/output rejected by the pool's Schemas
 * (`SchemaError`, before the input reaches a thread).
 *
 * @example
 * ```ts
 * import { WorkerError } from "@effect-pool/worker"
 * import { Effect } from "effect"
 *
 * declare const task: Effect.Effect<number, WorkerError.WorkerError>
 * const described = Effect.catch(task, (e) => Effect.succeed(`${e._tag}: ${e.message}`))
 * ```
 * @since 4.0.0
 * @category errors
 */
export type WorkerError =
  | TaskFailedError
  | TaskInputError
  | WorkerCrashedError
  | TaskTimeoutError
  | WorkerStartupError
  | PoolQueueFullError
  | PoolClosedError
  | SchemaError
