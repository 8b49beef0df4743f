/**
 * Building and running a `Pool`: options → validated config → shell + background fibers in the
 * caller's scope.
 *
 * @internal
 */
import { Callback, Config } from "@effect-pool/engine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Options } from "../Pool.js"
import type { PoolConfigError } from "../PoolError.js"
import * as OptionCheck from "../OptionCheck.js"
import { type ConfigInput, configKeys, type PoolConfig, parseConfig } from "./config.js"
import type { ItemHandleImpl } from "./handle.js"
import { defaultCreateRetry, type Lifecycle, PoolShell } from "./shell.js"

/** The options every pool (and each key of a keyed pool) shares, besides `acquire`: the public ones. */
export type CommonOptions<A, E, R> = Omit<Options<A, E, R>, "acquire">

const defaultHealthSchedule = Schedule.spaced("30 seconds")

/** A user callback that throws instead of returning an Effect: that callback failing (a defect). */
const guarded = <Args extends Array<any>, X, Y, R>(
  f: (...args: Args) => Effect.Effect<X, Y, R> | undefined
): ((...args: Args) => Effect.Effect<X, Y, R> | undefined) => Callback.guard(f, (thrown) => Effect.die(thrown))

/** Provides the pool's environment to a user callback (a synchronous throw is its failure). */
const provided = <Args extends Array<any>, X, Y, R>(
  f: ((...args: Args) => Effect.Effect<X, Y, R>) | undefined,
  context: Context.Context<R>
): ((...args: Args) => Effect.Effect<X, Y>) | undefined =>
  providedOptional(f, context) as ((...args: Args) => Effect.Effect<X, Y>) | undefined

/** `provided` for a callback that may return `undefined` (nothing to do). */
const providedOptional = <Args extends Array<any>, X, Y, R>(
  f: ((...args: Args) => Effect.Effect<X, Y, R> | undefined) | undefined,
  context: Context.Context<R>
): ((...args: Args) => Effect.Effect<X, Y> | undefined) | undefined => {
  if (f === undefined) return undefined
  const call = guarded(f)
  return (...args: Args) => {
    const effect = call(...args)
    return effect === undefined ? undefined : Effect.provideContext(effect, context) as Effect.Effect<X, Y>
  }
}

/** `acquire` as the shell calls it: with the new item's handle. */
export type Acquire<A, E, R> =
  | Effect.Effect<A, E, Scope.Scope | R>
  | ((item: ItemHandleImpl<A>) => Effect.Effect<A, E, Scope.Scope | R>)

/** The lifecycle record of the shell, from the user's options. */
export const lifecycleOf = <A, E, R>(
  acquire: Acquire<A, E, R>,
  options: CommonOptions<A, E, R>,
  context: Context.Context<R>
): Lifecycle<A, E> => ({
  acquire: (Effect.isEffect(acquire) ? () => acquire : (item: ItemHandleImpl<A>) => {
    const made = acquire(item)
    // a plain-JS caller's acquire(item) returning something else: a failed creation that says so
    return Effect.isEffect(made)
      ? made
      : Effect.die(new Error(`acquire(item) must return an Effect, got ${OptionCheck.describeValue(made)}`))
  }) as Lifecycle<A, E>["acquire"],
  validate: provided(options.validate, context),
  recycle: providedOptional(options.recycle, context),
  createRetry: (options.createRetry ?? defaultCreateRetry) as Schedule.Schedule<unknown, unknown, unknown>,
  spans: options.spans ?? false
})

export const configOf = (options: ConfigInput, maxName?: string): Effect.Effect<PoolConfig, PoolConfigError> =>
  Effect.fromResult(parseConfig(options, maxName))

/** The lifecycle options every pool reads besides `ConfigInput`'s (named once, in the engine). */
const lifecycleKeys: ReadonlyArray<string> = Config.effectfulKeys

/**
 * The checks `parseConfig` cannot make: no unknown key (a misspelt option would otherwise be
 * ignored), and every callback, Effect and Schedule of the right kind — a missing `acquire`
 * would make every borrow wait `acquireTimeout`. Returns the checked `healthCheck`.
 */
export const checkOptions = (
  options: CommonOptions<any, any, any> & { readonly acquire?: unknown },
  acquire: "effect or function" | "function",
  extraKeys: ReadonlyArray<string> = [],
  renamed: Readonly<Record<string, string>> = {}
): Effect.Effect<OptionCheck.HealthCheck | undefined, PoolConfigError> =>
  Effect.suspend(() => Effect.fromResult(checkOptionsNow(options, acquire, extraKeys, renamed)))

const checkOptionsNow = (
  options: CommonOptions<any, any, any> & { readonly acquire?: unknown },
  acquire: "effect or function" | "function",
  extraKeys: ReadonlyArray<string>,
  renamed: Readonly<Record<string, string>>
) =>
  OptionCheck.run(OptionCheck.nameOf(options, "pool"), (check) => {
    check.record("options", options)
    const keys = [...configKeys, ...lifecycleKeys, ...extraKeys].filter((key) => !(key in renamed))
    check.known(options, keys, renamed)
    if (typeof options.acquire !== "function" && (acquire === "function" || !Effect.isEffect(options.acquire))) {
      const expected = acquire === "function" ? "a function returning an Effect" : "an Effect or a function returning one"
      check.fail("acquire", `must be ${expected}, got ${OptionCheck.describeValue(options.acquire)}`)
    }
    check.func("validate", options.validate)
    check.func("recycle", options.recycle)
    check.boolean("spans", options.spans, false)
    if (options.createRetry !== undefined && !Schedule.isSchedule(options.createRetry)) {
      check.fail("createRetry", `must be a Schedule, got ${OptionCheck.describeValue(options.createRetry)}`)
    }
    return OptionCheck.healthCheck(check, options.healthCheck, { userCheck: true })
  })

/** Housekeeping forever: evict, top up, report leaks, sleep until the next deadline. */
const housekeeper = (passes: Effect.Effect<number>): Effect.Effect<never> =>
  Effect.forever(Effect.flatMap(passes, (ms) => Effect.sleep(ms)))

/** Runs `check` on the health schedule until the schedule ends. */
const healthChecker = <R>(
  schedule: Schedule.Schedule<unknown, unknown, unknown, R>,
  check: Effect.Effect<void>
): Effect.Effect<void, never, R> =>
  Effect.flatMap(Schedule.toStepWithSleep(schedule), (step) =>
    Effect.whileLoop({
      while: () => true,
      body: () => Effect.andThen(step(undefined), check),
      step: () => {}
    })).pipe(Effect.ignore)

const metricsRefresher = (refresh: () => void): Effect.Effect<void> =>
  Effect.repeat(Effect.sync(refresh), Schedule.spaced("1 second")).pipe(Effect.asVoid)

/** What `startBackground` runs for a pool (a `PoolShell`, or a keyed pool over many). */
export interface Background<A> {
  readonly shutdown: Effect.Effect<void>
  housekeep(): Effect.Effect<number>
  healthCheck(check: (item: A) => Effect.Effect<unknown, unknown>, suspends: (error: unknown) => boolean, timeout: number | undefined): Effect.Effect<void>
  refreshMetrics(): void
}

/**
 * Ties a pool to the current scope: close at its end, and — forked in it — housekeeping, the
 * health checks (with the pool's environment) and the metrics refresh.
 */
export const startBackground = <A, R>(
  pool: Background<A>,
  healthCheck: OptionCheck.HealthCheck | undefined,
  context: Context.Context<R>
): Effect.Effect<void, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    yield* Effect.addFinalizer(() => pool.shutdown)
    yield* Effect.forkScoped(housekeeper(pool.housekeep()))
    if (healthCheck !== undefined) {
      const check = provided(healthCheck.check as (item: A) => Effect.Effect<unknown, unknown, R>, context)!
      const schedule = (healthCheck.schedule ?? defaultHealthSchedule) as Schedule.Schedule<unknown, unknown, unknown, R>
      yield* Effect.forkScoped(healthChecker(schedule, pool.healthCheck(check, Callback.suspendsOn(healthCheck.onFailure), healthCheck.timeout)))
    }
    yield* Effect.forkScoped(metricsRefresher(() => pool.refreshMetrics()))
  })

/** Makes a pool shell and starts its background work in the current scope. */
export const makeShell = <A, E, R>(
  options: CommonOptions<A, E, R> & { readonly acquire: Acquire<A, E, R> }
): Effect.Effect<PoolShell<A, E>, PoolConfigError, Scope.Scope | R> =>
  Effect.gen(function*() {
    // every option read once, into a copy (a getter that throws is that option's error): the
    // checks and the pool see that copy, never a user's getters or Proxy traps again
    const input = (yield* Effect.fromResult(OptionCheck.run(OptionCheck.nameOf(options, "pool"), (check) => check.options(options)))) as unknown as typeof options
    const acquire = input.acquire
    const healthCheck = yield* checkOptions(input, "effect or function")
    const config = yield* configOf(input)
    const context = yield* Effect.context<R>()
    const clock = Context.get(context as Context.Context<never>, Clock.Clock)
    const shell = new PoolShell<A, E>(
      config,
      lifecycleOf(acquire, input, context),
      clock,
      context as Context.Context<never>,
      { pool: config.name }
    )
    yield* startBackground(shell, healthCheck, context)
    shell.demand()
    return shell
  })

/**
 * `min`/`max` changed at run time, validated like at `make` (`size` as a JavaScript caller may
 * pass it: anything but an object of `min`/`max` numbers is a `PoolConfigError`).
 */
export const resizedConfig = (config: PoolConfig, size: unknown): Effect.Effect<PoolConfig, PoolConfigError> =>
  Effect.fromResult(OptionCheck.run(config.name, (check) => Config.resize(check, config, size)))
