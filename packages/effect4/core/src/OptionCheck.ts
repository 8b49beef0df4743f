/**
 * Option validation for pools and for the kind packages built on them. Every option a user
 * passes — from TypeScript, JavaScript or `Config` — is checked once, at construction: a wrong
 * type, a value out of range, a duration past what a timer can hold, or a key nobody reads is a
 * `PoolConfigError` naming the option, never a pool that misbehaves later.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * const parsed = OptionCheck.run("db", (check) => {
 *   const input: Record<string, unknown> = { max: 4, connectTimeout: "2 seconds" }
 *   check.known(input, ["max", "connectTimeout"])
 *   return {
 *     max: check.integer("max", input.max, 10, { min: 1 }),
 *     connectTimeout: check.duration("connectTimeout", input.connectTimeout, "10 seconds", { zero: "none" })
 *   }
 * })
 * ```
 * @since 4.0.0
 */
import { Config, Options } from "@effect-pool/engine"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { PoolConfigError } from "./PoolError.js"

/**
 * The largest delay a timer holds (2^31 − 1 ms, about 24.8 days): Node fires a longer
 * `setTimeout` at once, so no option may ask for one.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.MAX_TIMER_MILLIS) // 2147483647
 * ```
 * @since 4.0.0
 */
export const MAX_TIMER_MILLIS: number = Options.MAX_TIMER_MILLIS

/**
 * `ms` as a timer delay, or `undefined` when no timer can hold it (the timer is then never
 * started: a timeout that long never fires).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.timerMillis(2 ** 40)) // undefined
 * ```
 * @since 4.0.0
 */
export const timerMillis: (ms: number) => number | undefined = Options.timerMillis

/**
 * The rules of one duration option: what `0` and `Infinity` mean, and a maximum.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * const rules: OptionCheck.DurationRules = { zero: "none", max: OptionCheck.MAX_TIMER_MILLIS }
 * ```
 * @since 4.0.0
 */
export type DurationRules = Options.DurationRules

/**
 * The checks `run` passes to its function; each returns the validated value or stops `run` with
 * a `PoolConfigError` naming the option.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * const timeout = (check: OptionCheck.Checker, input: unknown) => check.duration("timeout", input, "5 seconds")
 * ```
 * @since 4.0.0
 */
export type Checker = Options.Checker<Duration.Input>

const objectUnits = new Set(["weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"])

/**
 * A `Duration.Input` object (`{ seconds: 5 }`) only with known units holding finite, non-negative
 * numbers: Effect 4 reads any other object as 0 ms, which would turn a typo into "no wait".
 */
const isDurationObject = (input: object): boolean => {
  const keys = Object.keys(input)
  if (keys.length === 0) return false
  for (const key of keys) {
    const value = (input as Record<string, unknown>)[key]
    if (!objectUnits.has(key) || typeof value !== "number" || !Number.isFinite(value) || value < 0) return false
  }
  return true
}

const codec: Options.DurationCodec = {
  decode: (input) => {
    if (typeof input === "object" && input !== null && !Array.isArray(input) && !Duration.isDuration(input)) {
      if (Object.getPrototypeOf(input) !== Object.prototype || !isDurationObject(input)) return undefined
    } else if (typeof input !== "number" && typeof input !== "bigint" && typeof input !== "string" && !Array.isArray(input) && !Duration.isDuration(input)) {
      return undefined
    }
    const decoded = Duration.fromInput(input as Duration.Input)
    return Option.isNone(decoded) ? undefined : Duration.toMillis(decoded.value)
  }
}

const checker: Checker = Options.makeChecker<Duration.Input>(codec)

/**
 * Runs `f` with the checks; the first failing check becomes a `PoolConfigError` naming its
 * option and the pool. Exceptions that are not failed checks propagate (they are bugs).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 * import { Result } from "effect"
 *
 * const result = OptionCheck.run("db", (check) => check.integer("max", 0, 10, { min: 1 }))
 * if (Result.isFailure(result)) console.log(result.failure.message) // pool "db": invalid option max: must be at least 1, got 0
 * ```
 * @since 4.0.0
 */
export const run = <A>(pool: string, f: (check: Checker) => A): Result.Result<A, PoolConfigError> => {
  const result = Options.checkWith(checker, f)
  return result._tag === "Valid"
    ? Result.succeed(result.value)
    : Result.fail(new PoolConfigError({ pool, option: result.option, reason: result.reason }))
}

/**
 * A value as the checks name it in their reasons: strings quoted, objects and functions named by
 * kind (never their contents, which may hold secrets).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.describeValue("x")) // "x"
 * ```
 * @since 4.0.0
 */
export const describeValue: (value: unknown) => string = Options.describeValue

/**
 * A pool's name for the errors of its option checks, read before the options are known to be
 * valid and without trusting them: `input[key]` when it is a non-blank string, else `fallback`
 * (also when reading it throws — a user's getter — the check then names that option).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.nameOf({ name: "orders" }, "pool")) // "orders"
 * console.log(OptionCheck.nameOf({ name: " " }, "pool")) // "pool"
 * console.log(OptionCheck.nameOf(null, "pool")) // "pool"
 * ```
 * @since 0.3.0
 */
export const nameOf: (input: unknown, fallback: string, key?: string) => string = Options.nameOf

/**
 * Checks a `healthCheck` option — the one shape of core and every kind: `{ schedule, timeout }`,
 * plus `check` and `onFailure` when `userCheck` (core), plus a kind's `extraKeys` (checked by the
 * kind). `undefined` when off; the timeout in ms (`timeout`: the default; none: the pool's `validateTimeout`).
 * A bare Schedule (pg's old spelling) is a `PoolConfigError` naming `healthCheck: { schedule }`.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 * import { Schedule } from "effect"
 *
 * const parsed = OptionCheck.run("db", (check) =>
 *   OptionCheck.healthCheck(check, { schedule: Schedule.spaced("1 minute") }, { userCheck: false, timeout: "5 seconds" })
 * )
 * ```
 * @since 4.0.0
 */
export const healthCheck = (
  check: Checker,
  input: unknown,
  rules: { readonly userCheck: boolean; readonly extraKeys?: ReadonlyArray<string> | undefined; readonly timeout?: Duration.Input | undefined }
): HealthCheck | undefined => Config.parseHealthCheck(check, input, { ...rules, isSchedule: Schedule.isSchedule })

/**
 * A checked `healthCheck` (see {@link healthCheck}): its schedule (`undefined`: the pool's
 * default), timeout in ms, and — for core — the check and `onFailure`.
 *
 * @example
 * ```ts
 * import type { OptionCheck } from "@effect-pool/core"
 *
 * const timeoutOf = (health: OptionCheck.HealthCheck) => health.timeout
 * ```
 * @since 4.0.0
 */
export type HealthCheck = Config.HealthCheck
