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
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { PoolConfigError } from "./PoolError.js"

/**
 * The longest delay `setTimeout` honours (2³¹−1 ms, about 24.8 days); a longer one fires at once.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.MAX_TIMER_MILLIS) // 2147483647
 * ```
 * @since 0.2.0
 */
export const MAX_TIMER_MILLIS = 2_147_483_647

/**
 * The delay to hand `setTimeout` for a validated duration, or `undefined` when the timer must
 * never fire: `Infinity`, or past `MAX_TIMER_MILLIS` (a wait of more than 24 days is one no
 * process sees end; handing it to `setTimeout` would fire it after 1 ms).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * const ms = OptionCheck.timerMillis(30 * 24 * 3600 * 1000) // undefined: never fires
 * if (ms !== undefined) setTimeout(() => {}, ms)
 * ```
 * @since 0.2.0
 */
export const timerMillis = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms <= MAX_TIMER_MILLIS ? ms : undefined

/**
 * What a duration option means at its edges: `"reject"` makes the value a `PoolConfigError`,
 * `"none"` turns it into `Infinity` (no timeout), `"allow"` keeps it.
 *
 * @example
 * ```ts
 * import type { OptionCheck } from "@effect-pool/core"
 *
 * const rules: OptionCheck.DurationRules = { zero: "none", infinity: "none" }
 * ```
 * @since 0.2.0
 */
export interface DurationRules {
  /** What `0` means. ["allow"] */
  readonly zero?: "reject" | "none" | "allow" | undefined
  /** What `Infinity` means. ["none"]: no limit. */
  readonly infinity?: "reject" | "none" | undefined
  /** The largest value accepted, in ms (e.g. a server's INT_MAX). [none] */
  readonly max?: number | undefined
}

/**
 * The checks `run` hands its function. Each returns the normalised value or stops `run` with a
 * `PoolConfigError` naming the option. `undefined` means "not given": the fallback is used.
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * const size = (check: OptionCheck.Checker, input: unknown) => check.integer("max", input, 10, { min: 1 })
 * ```
 * @since 0.2.0
 */
export interface Checker {
  /**
   * Every own key of `input` must be one of `keys` (keys whose value is `undefined` are
   * accepted). `aliases` names foreign options (another library's) with our name for each, so
   * the error can say which option to use instead.
   */
  readonly known: (
    input: object | undefined,
    keys: ReadonlyArray<string>,
    aliases?: Readonly<Record<string, string>>,
    prefix?: string
  ) => void
  /** A `Duration` input, in ms (`Infinity` = none). */
  readonly duration: (
    option: string,
    input: unknown,
    fallback: Duration.DurationInput,
    rules?: DurationRules
  ) => number
  /** A whole number in `[min, max]`; `Infinity` only when `infinity` is true. */
  readonly integer: (
    option: string,
    input: unknown,
    fallback: number,
    range: { readonly min: number; readonly max?: number | undefined; readonly infinity?: boolean | undefined }
  ) => number
  /** A finite number in `[min, max]` (`minExclusive`: `(min, max]`). */
  readonly number: (
    option: string,
    input: unknown,
    fallback: number,
    range?: {
      readonly min?: number | undefined
      readonly max?: number | undefined
      readonly minExclusive?: boolean | undefined
    }
  ) => number
  /** `true` or `false`. */
  readonly boolean: (option: string, input: unknown, fallback: boolean) => boolean
  /** A string (`nonEmpty`: with at least one non-blank character). */
  readonly string: <F extends string | undefined>(
    option: string,
    input: unknown,
    fallback: F,
    rules?: { readonly nonEmpty?: boolean | undefined }
  ) => string | F
  /** One of `values`. */
  readonly oneOf: <const V extends string | number | boolean>(
    option: string,
    input: unknown,
    fallback: V,
    values: ReadonlyArray<V>
  ) => V
  /** `undefined` or a function. */
  readonly func: <F extends (...args: never) => unknown>(option: string, input: unknown) => F | undefined
  /** `undefined` or a plain object (not an array, not a primitive). */
  readonly record: (option: string, input: unknown) => Readonly<Record<string, unknown>> | undefined
  /** Stops `run` with a `PoolConfigError` for `option`. */
  readonly fail: (option: string, reason: string) => never
}

class Invalid {
  constructor(
    readonly option: string,
    readonly reason: string
  ) {}
}

const fail = (option: string, reason: string): never => {
  throw new Invalid(option, reason)
}

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return value.toString()
  if (Array.isArray(value)) return "an array"
  if (value !== null && typeof value === "object") return "an object"
  return String(value)
}

/** Edit distance, for "did you mean". */
const distance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i)
  for (let i = 1; i <= x.length; i++) {
    const row = [i]
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[y.length]!
}

const suggestion = (key: string, keys: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of keys) {
    // a misspelt prefix of a long name (maxConection → maxConnectionsPerOrigin) is close too
    const d = Math.min(distance(key, candidate), distance(key, candidate.slice(0, key.length)) + 1)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 2)) ? best : undefined
}

const known: Checker["known"] = (input, keys, aliases, prefix = "") => {
  if (input === undefined) return
  for (const key of Object.keys(input)) {
    if (keys.includes(key) || (input as Record<string, unknown>)[key] === undefined) continue
    const ours = aliases?.[key]
    if (ours !== undefined) fail(prefix + key, `is not an option here; use "${prefix}${ours}" instead`)
    const near = suggestion(key, keys)
    fail(prefix + key, `is not a known option${near === undefined ? "" : `; did you mean "${prefix}${near}"?`}`)
  }
}

const decodeDuration = (option: string, value: unknown): number => {
  const negative = (typeof value === "number" && value < 0) ||
    (typeof value === "bigint" && value < 0n) ||
    (typeof value === "string" && value.trim().startsWith("-")) ||
    (Array.isArray(value) && value.some((part) => typeof part !== "number" || part < 0 || !Number.isFinite(part)))
  if (negative) fail(option, `must be a non-negative duration, got ${show(value)}`)
  if (typeof value === "number" && Number.isNaN(value)) fail(option, "must be a duration, got NaN")
  const decoded = Duration.decodeUnknown(value)
  if (decoded._tag === "None") fail(option, `is not a duration: ${show(value)}`)
  const ms = Duration.toMillis((decoded as { readonly value: Duration.Duration }).value)
  if (Number.isNaN(ms)) fail(option, `is not a duration: ${show(value)}`)
  return ms
}

const duration: Checker["duration"] = (option, input, fallback, rules) => {
  const ms = decodeDuration(option, input ?? fallback)
  if (ms === 0) {
    const zero = rules?.zero ?? "allow"
    if (zero === "reject") fail(option, "must be greater than 0")
    if (zero === "none") return Infinity
  }
  if (ms === Infinity) {
    if ((rules?.infinity ?? "none") === "reject") fail(option, "must be finite")
    return Infinity
  }
  if (rules?.max !== undefined && ms > rules.max) {
    fail(option, `must be at most ${Duration.format(Duration.millis(rules.max))} (${rules.max} ms), got ${ms} ms`)
  }
  return ms
}

const integer: Checker["integer"] = (option, input, fallback, range) => {
  const n = input ?? fallback
  if (typeof n !== "number" || Number.isNaN(n)) fail(option, `must be a number, got ${show(n)}`)
  const value = n as number
  if (value === Infinity || value === -Infinity) {
    if (range.infinity !== true || value < 0) fail(option, "must be finite")
    return Infinity
  }
  if (!Number.isInteger(value)) fail(option, `must be a whole number, got ${value}`)
  if (value < range.min) fail(option, `must be at least ${range.min}, got ${value}`)
  if (range.max !== undefined && value > range.max) fail(option, `must be at most ${range.max}, got ${value}`)
  return value
}

const number: Checker["number"] = (option, input, fallback, range) => {
  const n = input ?? fallback
  if (typeof n !== "number" || !Number.isFinite(n)) fail(option, `must be a finite number, got ${show(n)}`)
  const value = n as number
  const min = range?.min
  if (min !== undefined && (range?.minExclusive === true ? value <= min : value < min)) {
    fail(option, `must be ${range?.minExclusive === true ? "greater than" : "at least"} ${min}, got ${value}`)
  }
  if (range?.max !== undefined && value > range.max) fail(option, `must be at most ${range.max}, got ${value}`)
  return value
}

const boolean: Checker["boolean"] = (option, input, fallback) => {
  const value = input ?? fallback
  if (typeof value !== "boolean") fail(option, `must be true or false, got ${show(value)}`)
  return value as boolean
}

const string: Checker["string"] = (option, input, fallback, rules) => {
  const value = input ?? fallback
  if (value === undefined) return fallback
  if (typeof value !== "string") fail(option, `must be a string, got ${show(value)}`)
  if (rules?.nonEmpty === true && (value as string).trim() === "") fail(option, "must not be empty")
  return value as string
}

const oneOf: Checker["oneOf"] = (option, input, fallback, values) => {
  const value = input ?? fallback
  if (!values.includes(value as never)) {
    fail(option, `must be one of ${values.map((v) => show(v)).join(", ")}; got ${show(value)}`)
  }
  return value as never
}

const func: Checker["func"] = <F>(option: string, input: unknown): F | undefined => {
  if (input === undefined) return undefined
  if (typeof input !== "function") fail(option, `must be a function, got ${show(input)}`)
  return input as F
}

const record: Checker["record"] = (option, input) => {
  if (input === undefined) return undefined
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    fail(option, `must be an object, got ${show(input)}`)
  }
  return input as Readonly<Record<string, unknown>>
}

const checker: Checker = { known, duration, integer, number, boolean, string, oneOf, func, record, fail }

/**
 * Runs `f` with the checks; the first failing check becomes a `PoolConfigError` naming its
 * option and the pool. Exceptions that are not failed checks propagate (they are bugs).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 * import { Either } from "effect"
 *
 * const result = OptionCheck.run("db", (check) => check.integer("max", 0, 10, { min: 1 }))
 * if (Either.isLeft(result)) console.log(result.left.message) // pool "db": invalid option max: must be at least 1, got 0
 * ```
 * @since 0.2.0
 */
export const run = <A>(pool: string, f: (check: Checker) => A): Either.Either<A, PoolConfigError> => {
  try {
    return Either.right(f(checker))
  } catch (e) {
    if (e instanceof Invalid) return Either.left(new PoolConfigError({ pool, option: e.option, reason: e.reason }))
    throw e
  }
}

/**
 * `show` as the checks use it in their reasons: strings quoted, objects and functions named by
 * kind (never their contents, which may hold secrets).
 *
 * @example
 * ```ts
 * import { OptionCheck } from "@effect-pool/core"
 *
 * console.log(OptionCheck.describeValue("x")) // "x"
 * ```
 * @since 0.2.0
 */
export const describeValue: (value: unknown) => string = show
