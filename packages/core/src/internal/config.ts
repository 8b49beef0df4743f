/**
 * Options → validated configuration (plain numbers, milliseconds). Bad options are a
 * `PoolConfigError` at `make`, never a misbehaving pool later.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import type * as Either from "effect/Either"
import type { Options } from "../Pool.js"
import type { Checker } from "../OptionCheck.js"
import * as OptionCheck from "../OptionCheck.js"
import type { PoolConfigError } from "../PoolError.js"

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

/** The keys `parseConfig` reads: every `ConfigInput` option. */
export const configKeys: ReadonlyArray<string> = Object.keys(defaults)

const fraction = (check: Checker, option: string, input: unknown, fallback: number, zeroAllowed: boolean): number => {
  const n = input ?? fallback
  const ok = typeof n === "number" && (zeroAllowed ? n >= 0 : n > 0) && n <= 1
  if (!ok) check.fail(option, `must be in ${zeroAllowed ? "[0, 1]" : "(0, 1]"}, got ${OptionCheck.describeValue(n)}`)
  return n as number
}

/**
 * Validates and normalises options; `Left` names the first bad option. `maxName` is what the
 * caller calls `max` (a keyed pool's `maxPerKey`), so errors name the option the user wrote.
 */
export const parseConfig = (
  input: ConfigInput,
  maxName = "max"
): Either.Either<PoolConfig, PoolConfigError> => {
  const name = typeof input.name === "string" && input.name.trim() !== "" ? input.name : defaults.name
  return OptionCheck.run(name, (check) => {
    check.string("name", input.name, defaults.name, { nonEmpty: true })
    const max = check.integer(maxName, input.max, defaults.max, { min: 1, infinity: true })
    const min = check.integer("min", input.min, defaults.min, { min: 0 })
    if (min > max) check.fail("min", `must not exceed ${maxName} (${max})`)
    const maxIdle = check.integer("maxIdle", input.maxIdle, defaults.maxIdle, { min: 0, infinity: true })
    if (maxIdle < min) check.fail("maxIdle", `must be at least min (${min}), got ${maxIdle}`)
    const duration = (option: keyof typeof defaults & keyof ConfigInput) =>
      check.duration(option, input[option], defaults[option] as Duration.DurationInput)
    return {
      name,
      min,
      max,
      concurrency: check.integer("concurrency", input.concurrency, defaults.concurrency, { min: 1 }),
      targetUtilization: fraction(check, "targetUtilization", input.targetUtilization, defaults.targetUtilization, false),
      acquireTimeout: duration("acquireTimeout"),
      createTimeout: duration("createTimeout"),
      idleTimeout: duration("idleTimeout"),
      maxLifetime: duration("maxLifetime"),
      lifetimeJitter: fraction(check, "maxLifetimeJitter", input.maxLifetimeJitter, defaults.maxLifetimeJitter, true),
      maxUses: check.integer("maxUses", input.maxUses, defaults.maxUses, { min: 1, infinity: true }),
      maxWaiters: check.integer("maxWaiters", input.maxWaiters, defaults.maxWaiters, { min: 0, infinity: true }),
      maxIdle,
      order: check.oneOf("order", input.order, defaults.order, ["lifo", "fifo"]),
      validateAfterIdle: duration("validateAfterIdle"),
      validateTimeout: duration("validateTimeout"),
      recycleTimeout: duration("recycleTimeout"),
      shutdownTimeout: duration("shutdownTimeout"),
      destroyTimeout: duration("destroyTimeout"),
      leakDetectionThreshold: duration("leakDetectionThreshold"),
      failWaitersOnCreateError: check.boolean(
        "failWaitersOnCreateError",
        input.failWaitersOnCreateError,
        defaults.failWaitersOnCreateError
      )
    }
  })
}

/** One duration option in ms, validated like the pool's own (for kind packages' options). */
export const durationOption = (
  pool: string,
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.DurationInput
): Either.Either<number, PoolConfigError> => OptionCheck.run(pool, (check) => check.duration(option, input, fallback))

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
): Either.Either<KeyedLimits, PoolConfigError> =>
  OptionCheck.run(name, (check) => ({
    maxTotal: check.integer("maxTotal", input.maxTotal, Infinity, { min: 1, infinity: true }),
    maxIdleTotal: check.integer("maxIdleTotal", input.maxIdleTotal, Infinity, { min: 0, infinity: true }),
    idleKeyTimeout: check.duration("idleKeyTimeout", input.idleKeyTimeout, "5 minutes")
  }))
