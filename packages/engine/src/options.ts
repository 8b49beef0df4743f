/**
 * Option validation without a runtime: the rules every pool and every kind applies to what a
 * user passes (types, ranges, durations past a timer's limit, unknown keys with "did you mean").
 * A failed check throws an `OptionInvalid`; `check` runs a whole parse and returns the first
 * one as a value. Each Effect edition wraps this into its own `PoolConfigError` and supplies how
 * its `Duration` inputs decode (`DurationCodec`): the only thing an edition adds.
 *
 * @example
 * ```ts
 * import { Options } from "@effect-pool/engine"
 *
 * const codec: Options.DurationCodec = { decode: (input) => (typeof input === "number" ? input : undefined) }
 * const result = Options.check(codec, (check) => check.integer("max", 0, 10, { min: 1 }))
 * if (result._tag === "Invalid") console.log(result.option, result.reason) // max must be at least 1, got 0
 * ```
 * @since 0.1.0
 */

/** The largest delay a Node/browser timer holds (2^31 − 1 ms, ~24.8 days); longer fires at once. */
export const MAX_TIMER_MILLIS = 2_147_483_647

/** `ms` as a timer delay, or `undefined` when no timer can hold it (it would never fire). */
export const timerMillis = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms <= MAX_TIMER_MILLIS ? ms : undefined

/** How an edition's `Duration` inputs become milliseconds: `undefined` when `input` is not one. */
export interface DurationCodec {
  readonly decode: (input: unknown) => number | undefined
}

/** Rules for one duration option. */
export interface DurationRules {
  /** What `0` means. ["allow"] */
  readonly zero?: "reject" | "none" | "allow" | undefined
  /** What `Infinity` means. ["none"]: no limit. */
  readonly infinity?: "reject" | "none" | undefined
  /** The largest value accepted, in ms (e.g. a server's INT_MAX). [none] */
  readonly max?: number | undefined
}

/** The checks, each returning the validated value or throwing `OptionInvalid`. */
export interface Checker<D = unknown> {
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
  /**
   * A duration input, in ms (`Infinity` = none; the string `"Infinity"` too, in both editions).
   * `null` is not given (`fallback`). A positive input the edition rounds to 0 ns (`1e-9` ms) is
   * one nanosecond ({@link NANOSECOND_MILLIS}), never 0.
   */
  readonly duration: (option: string, input: unknown, fallback: D, rules?: DurationRules) => number
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
  /**
   * `undefined` or an object (not an array, not a primitive), returned as a copy of its own
   * enumerable properties, each read once (a null-prototype object): read options from the copy,
   * never from the user's object again — a getter or Proxy trap of theirs then runs only here,
   * where a throw is this option's failure, and `Object.prototype` keys are no one's options.
   */
  readonly record: (option: string, input: unknown) => Readonly<Record<string, unknown>> | undefined
  /**
   * A pool's whole options object, as `record` reads it, but required: `undefined` fails too,
   * named "options" (`make(undefined)` is the caller's error, not a defect inside the parse).
   */
  readonly options: (input: unknown) => Readonly<Record<string, unknown>>
  /** A number in `[0, 1]` (`zero: false`: `(0, 1]`). */
  readonly fraction: (option: string, input: unknown, fallback: number, zero: boolean) => number
  /** Stops the parse with `reason` for `option`. */
  readonly fail: (option: string, reason: string) => never
}

/** A failed check: which option, and why. */
export class OptionInvalid {
  readonly _tag = "Invalid"
  constructor(
    readonly option: string,
    readonly reason: string
  ) {}
}

const fail = (option: string, reason: string): never => {
  throw new OptionInvalid(option, reason)
}

/**
 * A value as the checks name it in their reasons: strings quoted, objects and functions named
 * by kind (never their contents, which may hold secrets).
 */
export const describeValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return value.toString()
  if (Array.isArray(value)) return "an array"
  if (value !== null && typeof value === "object") return "an object"
  return String(value)
}

/**
 * What a thrown value says, never throwing itself: an `Error`'s message, `null`/`undefined` by
 * name, anything else as `String` gives it — or, when that throws too (a `toString` or `message`
 * getter of the user's that throws, a revoked Proxy), what `describeValue` says of it.
 */
export const messageOfThrown = (thrown: unknown): string => {
  try {
    if (thrown instanceof Error) return String(thrown.message)
    return String(thrown)
  } catch {
    try {
      return `${describeValue(thrown)} that cannot be printed`
    } catch {
      return "a value that cannot be printed"
    }
  }
}

/**
 * A pool's name for its errors, read from `input[key]` before the options are known to be valid
 * and without trusting them: a non-blank string, else `fallback` — also when reading it throws
 * (a user's getter or Proxy; the parse then names that option).
 */
export const nameOf = (input: unknown, fallback: string, key = "name"): string => {
  try {
    const value = input !== null && typeof input === "object" ? (input as Record<string, unknown>)[key] : undefined
    return typeof value === "string" && value.trim() !== "" ? value : fallback
  } catch {
    return fallback
  }
}

/** `ms` as "1d 2h 3m 4s 5ms" (the form Effect's `Duration.format` prints). */
export const formatMillis = (ms: number): string => {
  if (ms === Infinity) return "Infinity"
  if (ms === 0) return "0"
  const parts: Array<string> = []
  let rest = Math.floor(ms)
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n}${unit}`)
    rest -= n * size
  }
  return parts.join(" ")
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

/** The known key closest to a misspelt one, if it is close enough to be meant. */
export const suggestion = (key: string, keys: ReadonlyArray<string>): string | undefined => {
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

/** What a throw from a user's getter or Proxy trap said (its message read safely: it may throw too). */
const thrown = (e: unknown): string => {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)
  } catch {
    return "an exception"
  }
}

/**
 * The own enumerable keys of `input` and their values, each read once under a guard: a getter
 * or Proxy trap of the user's that throws is a failed check of that option (never a defect).
 */
const readable = (option: string, input: object): ReadonlyArray<readonly [string, unknown]> => {
  let keys: ReadonlyArray<string>
  try {
    keys = Object.keys(input)
  } catch (e) {
    return fail(option, `could not be read: ${thrown(e)}`)
  }
  return keys.map((key) => {
    try {
      return [key, (input as Record<string, unknown>)[key]] as const
    } catch (e) {
      return fail(option === "options" ? key : /^[A-Za-z_$][\w$]*$/.test(key) ? `${option}.${key}` : `${option}[${JSON.stringify(key)}]`, `could not be read: ${thrown(e)}`)
    }
  })
}

const known: Checker["known"] = (input, keys, aliases, prefix = "") => {
  if (input === undefined) return
  for (const [key, value] of readable(prefix === "" ? "options" : prefix.slice(0, -1), input)) {
    if (keys.includes(key) || value === undefined) continue
    // an own key only: `__proto__`, `toString` and the like are not aliases
    const ours = aliases !== undefined && Object.hasOwn(aliases, key) ? aliases[key] : undefined
    if (ours !== undefined) fail(prefix + key, `is not an option here; use "${prefix}${ours}" instead`)
    const near = suggestion(key, keys)
    fail(prefix + key, `is not a known option${near === undefined ? "" : `; did you mean "${prefix}${near}"?`}`)
  }
}

/** The smallest positive duration (one nanosecond, Effect's unit), in ms. */
export const NANOSECOND_MILLIS = 1e-6

/**
 * A duration input written as more than zero: a positive number, BigInt, `"<amount> <unit>"`
 * string, `[seconds, nanos]` pair or `{ unit: amount }` object. Effect rounds an amount under
 * a nanosecond (`1e-9` ms, `[0, 0.5]`) to 0; such an input is still a positive duration.
 */
const writtenPositive = (value: unknown): boolean => {
  if (typeof value === "number") return value > 0
  if (typeof value === "bigint") return value > 0n
  if (typeof value === "string") return Number.parseFloat(value.trim()) > 0
  if (Array.isArray(value)) return value.some((part) => typeof part === "number" && part > 0)
  if (value !== null && typeof value === "object") {
    try {
      return Object.getPrototypeOf(value) === Object.prototype && Object.values(value).some((part) => typeof part === "number" && part > 0)
    } catch {
      return false // a Proxy or getter of the caller's: read as the codec read it
    }
  }
  return false
}

const decodeDuration = (codec: DurationCodec, option: string, value: unknown): number => {
  const negative = (typeof value === "number" && value < 0) ||
    (typeof value === "bigint" && value < 0n) ||
    (typeof value === "string" && value.trim().startsWith("-")) ||
    (Array.isArray(value) && value.some((part) => typeof part !== "number" || part < 0 || !Number.isFinite(part)))
  if (negative) fail(option, `must be a non-negative duration, got ${describeValue(value)}`)
  if (typeof value === "number" && Number.isNaN(value)) fail(option, "must be a duration, got NaN")
  // Effect 4's Duration string for none, read alike by both editions (Effect 3 has no such string)
  if (value === "Infinity") return Infinity
  const ms = codec.decode(value)
  if (ms === undefined || Number.isNaN(ms)) fail(option, `is not a duration: ${describeValue(value)}`)
  // under a nanosecond Effect rounds to 0: a positive input is never "0" (no limit, or rejected)
  if (ms === 0 && writtenPositive(value)) return NANOSECOND_MILLIS
  return ms as number
}

const integer: Checker["integer"] = (option, input, fallback, range) => {
  const n = input ?? fallback
  if (typeof n !== "number" || Number.isNaN(n)) fail(option, `must be a number, got ${describeValue(n)}`)
  const value = n as number
  if (value === Infinity || value === -Infinity) {
    if (range.infinity !== true || value < 0) fail(option, "must be finite")
    return Infinity
  }
  if (!Number.isInteger(value)) fail(option, `must be a whole number, got ${value}`)
  // past 2^53 − 1 counting breaks (n + 1 === n): no count this large is meant
  if (!Number.isSafeInteger(value)) fail(option, `must be at most ${Number.MAX_SAFE_INTEGER}, got ${value}`)
  if (value < range.min) fail(option, `must be at least ${range.min}, got ${value}`)
  if (range.max !== undefined && value > range.max) fail(option, `must be at most ${range.max}, got ${value}`)
  return value
}

const number: Checker["number"] = (option, input, fallback, range) => {
  const n = input ?? fallback
  if (typeof n !== "number" || !Number.isFinite(n)) fail(option, `must be a finite number, got ${describeValue(n)}`)
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
  if (typeof value !== "boolean") fail(option, `must be true or false, got ${describeValue(value)}`)
  return value as boolean
}

const string: Checker["string"] = (option, input, fallback, rules) => {
  const value = input ?? fallback
  if (value === undefined) return fallback
  if (typeof value !== "string") fail(option, `must be a string, got ${describeValue(value)}`)
  if (rules?.nonEmpty === true && (value as string).trim() === "") fail(option, "must not be empty")
  return value as string
}

const oneOf: Checker["oneOf"] = (option, input, fallback, values) => {
  const value = input ?? fallback
  if (!values.includes(value as never)) {
    fail(option, `must be one of ${values.map((v) => describeValue(v)).join(", ")}; got ${describeValue(value)}`)
  }
  return value as never
}

const func: Checker["func"] = <F>(option: string, input: unknown): F | undefined => {
  if (input === undefined) return undefined
  if (typeof input !== "function") fail(option, `must be a function, got ${describeValue(input)}`)
  return input as F
}

const record: Checker["record"] = (option, input) => {
  if (input === undefined) return undefined
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    fail(option, `must be an object, got ${describeValue(input)}`)
  }
  // every entry read once, here: a getter that throws is this option's failure, not a defect later
  // null prototype: no `__proto__` setter, so an own `__proto__` key is assigned as a key
  const copy: Record<string, unknown> = Object.create(null)
  for (const [key, value] of readable(option, input as object)) copy[key] = value
  return copy
}

const fraction: Checker["fraction"] = (option, input, fallback, zero) => {
  const n = input ?? fallback
  const ok = typeof n === "number" && (zero ? n >= 0 : n > 0) && n <= 1
  if (!ok) fail(option, `must be in ${zero ? "[0, 1]" : "(0, 1]"}, got ${describeValue(n)}`)
  return n as number
}

/** The checks for one edition's duration inputs. */
export const makeChecker = <D>(codec: DurationCodec): Checker<D> => ({
  known,
  duration: (option, input, fallback, rules) => {
    const ms = decodeDuration(codec, option, input ?? fallback)
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
      fail(option, `must be at most ${formatMillis(rules.max)} (${rules.max} ms), got ${ms} ms`)
    }
    return ms
  },
  integer,
  number,
  boolean,
  string,
  oneOf,
  func,
  record,
  options: (input) => record("options", input) ?? fail("options", "must be an object, got undefined"),
  fraction,
  fail
})

/** The outcome of `check`: the parsed value, or the first failed check. */
export type Checked<A> = { readonly _tag: "Valid"; readonly value: A } | OptionInvalid

/**
 * Runs `f` with `checker`; the first failing check is returned as `OptionInvalid`. Exceptions
 * that are not failed checks propagate (they are bugs).
 */
export const checkWith = <A, D>(checker: Checker<D>, f: (check: Checker<D>) => A): Checked<A> => {
  try {
    return { _tag: "Valid", value: f(checker) }
  } catch (e) {
    if (e instanceof OptionInvalid) return e
    throw e
  }
}

/** `checkWith` a checker made from `codec`. */
export const check = <A, D = unknown>(codec: DurationCodec, f: (check: Checker<D>) => A): Checked<A> =>
  checkWith(makeChecker<D>(codec), f)
