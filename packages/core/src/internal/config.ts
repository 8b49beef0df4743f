/**
 * Options → validated configuration (plain numbers, milliseconds). Bad options are a
 * `PoolConfigError` at `make`, never a misbehaving pool later.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type { Options } from "../Pool.js"
import { PoolConfigError } from "../PoolError.js"

/** The validated, normalised configuration of one pool. Durations in ms; `Infinity` = none. */
export interface PoolConfig {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly concurrency: number
  readonly targetUtilization: number
  readonly acquireTimeout: number
  readonly createTimeout: number
  readonly idleTimeout: number
  readonly maxLifetime: number
  readonly lifetimeJitter: number
  readonly maxUses: number
  readonly maxWaiters: number
  readonly maxIdle: number
  readonly order: "lifo" | "fifo"
  readonly validateAfterIdle: number
  readonly validateTimeout: number
  readonly recycleTimeout: number
  readonly shutdownTimeout: number
  readonly destroyTimeout: number
  readonly leakDetectionThreshold: number
  readonly failWaitersOnCreateError: boolean
}

/** The option fields `parseConfig` reads: the public options minus the effectful ones. */
export type ConfigInput = Omit<
  Options<unknown, unknown, unknown>,
  "acquire" | "validate" | "recycle" | "healthCheck" | "createRetry" | "spans"
>

/** Defaults, documented in the README's options table. */
export const defaults = {
  name: "pool",
  min: 0,
  max: 10,
  concurrency: 1,
  targetUtilization: 1,
  acquireTimeout: "30 seconds",
  createTimeout: "30 seconds",
  idleTimeout: "10 minutes",
  maxLifetime: Infinity,
  maxLifetimeJitter: 0.1,
  maxUses: Infinity,
  maxWaiters: Infinity,
  maxIdle: Infinity,
  order: "lifo",
  validateAfterIdle: 0,
  validateTimeout: "5 seconds",
  recycleTimeout: "5 seconds",
  shutdownTimeout: "10 seconds",
  destroyTimeout: "10 seconds",
  leakDetectionThreshold: Infinity,
  failWaitersOnCreateError: false
} as const

class Invalid {
  constructor(
    readonly option: string,
    readonly reason: string
  ) {}
}

const count = (option: string, value: number | undefined, fallback: number, least: number): number => {
  const n = value ?? fallback
  if (typeof n !== "number" || Number.isNaN(n)) throw new Invalid(option, `must be a number, got ${String(n)}`)
  if (n !== Infinity && !Number.isInteger(n)) throw new Invalid(option, `must be a whole number, got ${n}`)
  if (n < least) throw new Invalid(option, `must be at least ${least}, got ${n}`)
  return n
}

const fraction = (option: string, value: number | undefined, fallback: number, zeroAllowed: boolean): number => {
  const n = value ?? fallback
  const ok = typeof n === "number" && (zeroAllowed ? n >= 0 : n > 0) && n <= 1
  if (!ok) throw new Invalid(option, `must be in ${zeroAllowed ? "[0, 1]" : "(0, 1]"}, got ${String(n)}`)
  return n
}

/** A duration in milliseconds; negative, NaN or malformed input is rejected, not clamped. */
export const millis = (option: string, input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) => {
  const value = input ?? fallback
  const negative = (typeof value === "number" && (value < 0 || Number.isNaN(value))) ||
    (typeof value === "bigint" && value < 0n) ||
    (typeof value === "string" && value.trim().startsWith("-")) ||
    (Array.isArray(value) && value.some((part) => typeof part !== "number" || part < 0 || Number.isNaN(part)))
  if (negative) throw new Invalid(option, `must be a non-negative duration, got ${String(value)}`)
  const decoded = Duration.decodeUnknown(value)
  if (decoded._tag === "None") throw new Invalid(option, `is not a duration: ${String(value)}`)
  return Duration.toMillis(decoded.value)
}

/** Validates and normalises options; `Left` names the first bad option. */
export const parseConfig = (input: ConfigInput): Either.Either<PoolConfig, PoolConfigError> => {
  const name = input.name ?? defaults.name
  try {
    const max = count("max", input.max, defaults.max, 1)
    const min = count("min", input.min, defaults.min, 0)
    if (min === Infinity) throw new Invalid("min", "must be finite")
    if (min > max) throw new Invalid("min", `must not exceed max (${max})`)
    const maxIdle = count("maxIdle", input.maxIdle, defaults.maxIdle, 0)
    if (maxIdle < min) throw new Invalid("maxIdle", `must be at least min (${min}), got ${maxIdle}`)
    const failWaiters = input.failWaitersOnCreateError ?? defaults.failWaitersOnCreateError
    if (typeof failWaiters !== "boolean") throw new Invalid("failWaitersOnCreateError", `must be true or false, got ${String(failWaiters)}`)
    const order = input.order ?? defaults.order
    if (order !== "lifo" && order !== "fifo") throw new Invalid("order", `must be "lifo" or "fifo", got ${String(order)}`)
    return Either.right({
      name,
      min,
      max,
      concurrency: count("concurrency", input.concurrency, defaults.concurrency, 1),
      targetUtilization: fraction("targetUtilization", input.targetUtilization, defaults.targetUtilization, false),
      acquireTimeout: millis("acquireTimeout", input.acquireTimeout, defaults.acquireTimeout),
      createTimeout: millis("createTimeout", input.createTimeout, defaults.createTimeout),
      idleTimeout: millis("idleTimeout", input.idleTimeout, defaults.idleTimeout),
      maxLifetime: millis("maxLifetime", input.maxLifetime, defaults.maxLifetime),
      lifetimeJitter: fraction("maxLifetimeJitter", input.maxLifetimeJitter, defaults.maxLifetimeJitter, true),
      maxUses: count("maxUses", input.maxUses, defaults.maxUses, 1),
      maxWaiters: count("maxWaiters", input.maxWaiters, defaults.maxWaiters, 0),
      maxIdle,
      order,
      validateAfterIdle: millis("validateAfterIdle", input.validateAfterIdle, defaults.validateAfterIdle),
      validateTimeout: millis("validateTimeout", input.validateTimeout, defaults.validateTimeout),
      recycleTimeout: millis("recycleTimeout", input.recycleTimeout, defaults.recycleTimeout),
      shutdownTimeout: millis("shutdownTimeout", input.shutdownTimeout, defaults.shutdownTimeout),
      destroyTimeout: millis("destroyTimeout", input.destroyTimeout, defaults.destroyTimeout),
      leakDetectionThreshold: millis(
        "leakDetectionThreshold",
        input.leakDetectionThreshold,
        defaults.leakDetectionThreshold
      ),
      failWaitersOnCreateError: failWaiters
    })
  } catch (e) {
    if (e instanceof Invalid) return Either.left(new PoolConfigError({ pool: name, option: e.option, reason: e.reason }))
    throw e
  }
}

/** One duration option in ms, validated like the pool's own (for kind packages' options). */
export const durationOption = (
  pool: string,
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.DurationInput
): Either.Either<number, PoolConfigError> => {
  try {
    return Either.right(millis(option, input, fallback))
  } catch (e) {
    if (e instanceof Invalid) return Either.left(new PoolConfigError({ pool, option: e.option, reason: e.reason }))
    throw e
  }
}

/** The limits only a keyed pool has, validated like the rest. */
export interface KeyedLimits {
  readonly maxTotal: number
  readonly maxIdleTotal: number
  readonly idleKeyTimeout: number
}

export const parseKeyedLimits = (
  name: string,
  input: {
    readonly maxTotal?: number | undefined
    readonly maxIdleTotal?: number | undefined
    readonly idleKeyTimeout?: Duration.DurationInput | undefined
  }
): Either.Either<KeyedLimits, PoolConfigError> => {
  try {
    return Either.right({
      maxTotal: count("maxTotal", input.maxTotal, Infinity, 1),
      maxIdleTotal: count("maxIdleTotal", input.maxIdleTotal, Infinity, 0),
      idleKeyTimeout: millis("idleKeyTimeout", input.idleKeyTimeout, "5 minutes")
    })
  } catch (e) {
    if (e instanceof Invalid) return Either.left(new PoolConfigError({ pool: name, option: e.option, reason: e.reason }))
    throw e
  }
}
