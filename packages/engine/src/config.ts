/**
 * A pool's options → its validated configuration (plain numbers, milliseconds), with the
 * defaults every edition and every kind shares. Bad options are an `OptionInvalid` at
 * construction, never a misbehaving pool later.
 *
 * @example
 * ```ts
 * import { Config, Options } from "@effect-pool/engine"
 *
 * const checker = Options.makeChecker<number>({ decode: (input) => (typeof input === "number" ? input : undefined) })
 * const parsed = Options.checkWith(checker, (check) => Config.parse(check, { max: 4, idleTimeout: 60_000 }))
 * if (parsed._tag === "Valid") console.log(parsed.value.max) // 4
 * ```
 * @since 0.1.0
 */
import { type Checker, describeValue } from "./options.js"

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

/**
 * The plain options of a pool — every one but the effectful ones (acquire, validate, recycle,
 * healthCheck, createRetry, spans) — with `D` an edition's duration input.
 */
export interface ConfigInput<D = unknown> {
  readonly name?: string | undefined
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly concurrency?: number | undefined
  readonly targetUtilization?: number | undefined
  readonly acquireTimeout?: D | undefined
  readonly createTimeout?: D | undefined
  readonly idleTimeout?: D | undefined
  readonly maxLifetime?: D | undefined
  readonly maxLifetimeJitter?: number | undefined
  readonly maxUses?: number | undefined
  readonly maxWaiters?: number | undefined
  readonly maxIdle?: number | undefined
  readonly order?: "lifo" | "fifo" | undefined
  readonly validateAfterIdle?: D | undefined
  readonly validateTimeout?: D | undefined
  readonly recycleTimeout?: D | undefined
  readonly shutdownTimeout?: D | undefined
  readonly destroyTimeout?: D | undefined
  readonly leakDetectionThreshold?: D | undefined
  readonly failWaitersOnCreateError?: boolean | undefined
}

/** The options that take an edition's effects: validated by the edition, named here once. */
export const effectfulKeys = ["acquire", "validate", "recycle", "healthCheck", "createRetry", "spans"] as const

/** Defaults, documented in the core README's options table. Durations in ms. */
export const defaults = {
  name: "pool",
  min: 0,
  max: 10,
  concurrency: 1,
  targetUtilization: 1,
  acquireTimeout: 30_000,
  createTimeout: 30_000,
  idleTimeout: 600_000,
  maxLifetime: Infinity,
  maxLifetimeJitter: 0.1,
  maxUses: Infinity,
  maxWaiters: Infinity,
  maxIdle: Infinity,
  order: "lifo",
  validateAfterIdle: 0,
  validateTimeout: 5_000,
  recycleTimeout: 5_000,
  shutdownTimeout: 10_000,
  destroyTimeout: 10_000,
  leakDetectionThreshold: Infinity,
  failWaitersOnCreateError: false
} as const

/** The keys `parse` reads: every `ConfigInput` option. */
export const configKeys: ReadonlyArray<string> = Object.keys(defaults)

type DurationKey = {
  [K in keyof ConfigInput]-?: ConfigInput<symbol>[K] extends symbol | undefined ? K : never
}[keyof ConfigInput]

/**
 * Validates and normalises `input` with `check` (throws the first `OptionInvalid`). `maxName` is
 * what the caller calls `max` (a keyed pool's `maxPerKey`), so errors name the option the user
 * wrote. A fallback duration is a number of ms, which every edition's codec must accept.
 */
export const parse = <D>(check: Checker<D>, options: ConfigInput<D>, maxName = "max"): PoolConfig => {
  // every option read once, into a copy (a user's getter that throws is that option's error)
  const input = check.options(options) as ConfigInput<D>
  const name = check.string("name", input.name, defaults.name, { nonEmpty: true })
  const max = check.integer(maxName, input.max, defaults.max, { min: 1, infinity: true })
  const min = check.integer("min", input.min, defaults.min, { min: 0 })
  if (min > max) check.fail("min", `must not exceed ${maxName} (${max})`)
  const maxIdle = check.integer("maxIdle", input.maxIdle, defaults.maxIdle, { min: 0, infinity: true })
  if (maxIdle < min) check.fail("maxIdle", `must be at least min (${min}), got ${maxIdle}`)
  const duration = (option: DurationKey) => check.duration(option, input[option], defaults[option] as D)
  return {
    name,
    min,
    max,
    concurrency: check.integer("concurrency", input.concurrency, defaults.concurrency, { min: 1 }),
    targetUtilization: check.fraction("targetUtilization", input.targetUtilization, defaults.targetUtilization, false),
    acquireTimeout: duration("acquireTimeout"),
    createTimeout: duration("createTimeout"),
    idleTimeout: duration("idleTimeout"),
    maxLifetime: duration("maxLifetime"),
    lifetimeJitter: check.fraction("maxLifetimeJitter", input.maxLifetimeJitter, defaults.maxLifetimeJitter, true),
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
}

/** A `PoolConfig` back as `parse` input (durations in ms, which every edition's codec accepts). */
export const inputOf = (config: PoolConfig): ConfigInput<number> => ({ ...config, maxLifetimeJitter: config.lifetimeJitter })

/** The keys `resize` reads. */
export const resizeKeys: ReadonlyArray<string> = ["min", "max"]

/**
 * `config` with the `min`/`max` of `size` (`Pool.resize`), validated as at construction: `size`
 * is checked like a pool's options — an object (each entry read once), of `min` and `max` only,
 * each a number when given (`undefined` or `null` is not given, as at construction: it keeps the
 * current value, and an omitted `min` shrinks to fit a smaller `max`). "options" names `size`
 * itself in a failure.
 */
export const resize = <D>(check: Checker<D>, config: PoolConfig, size: unknown): PoolConfig => {
  const input = check.options(size)
  check.known(input, resizeKeys)
  const max = input.max ?? config.max
  const min = input.min ?? Math.min(config.min, max as number)
  return parse(check, { ...inputOf(config), min, max } as ConfigInput<D>)
}

/** The limits only a keyed pool has. */
export interface KeyedLimits {
  readonly maxTotal: number
  readonly maxIdleTotal: number
  readonly idleKeyTimeout: number
}

/** Validates a keyed pool's own limits like the rest. */
export const parseKeyedLimits = <D>(
  check: Checker<D>,
  input: {
    readonly maxTotal?: number | undefined
    readonly maxIdleTotal?: number | undefined
    readonly idleKeyTimeout?: D | undefined
  }
): KeyedLimits => ({
  maxTotal: check.integer("maxTotal", input.maxTotal, Infinity, { min: 1, infinity: true }),
  maxIdleTotal: check.integer("maxIdleTotal", input.maxIdleTotal, Infinity, { min: 0, infinity: true }),
  idleKeyTimeout: check.duration("idleKeyTimeout", input.idleKeyTimeout, 300_000 as D)
})

/**
 * The one `healthCheck` shape of core and every kind: `{ schedule, timeout }`, plus `check` and
 * `onFailure` where the pool's user writes the check (core), plus a kind's own fields (gRPC's
 * `service`). The schedule and the check are the edition's values: `rules` says how to recognise
 * them.
 */
export interface HealthCheckRules<D> {
  /** Is `input` the edition's Schedule? */
  readonly isSchedule: (input: unknown) => boolean
  /** `check` and `onFailure` are the user's (core); a kind brings its own check. */
  readonly userCheck: boolean
  /** The kind's own keys, validated by the kind. [none] */
  readonly extraKeys?: ReadonlyArray<string> | undefined
  /** The timeout when none is given; `undefined`: the pool's `validateTimeout`. */
  readonly timeout?: D | undefined
}

/** A validated `healthCheck` (the schedule and the check still the edition's values). */
export interface HealthCheck {
  /** `undefined`: the pool's default schedule. */
  readonly schedule: unknown
  /** ms a check may take (Infinity: no limit); `undefined`: the pool's `validateTimeout`. */
  readonly timeout: number | undefined
  /** Only with `userCheck`. */
  readonly check: unknown
  /** Only with `userCheck`: "evict" [default], "suspend", or the user's function. */
  readonly onFailure: "evict" | "suspend" | ((error: unknown) => "evict" | "suspend")
  /** The record as given (for the kind's own keys). */
  readonly input: Readonly<Record<string, unknown>>
}

/**
 * Validates `healthCheck` (`undefined` → `undefined`, off): a plain object of known keys, a
 * Schedule, a timeout that is not 0 (Infinity: no limit; past a timer's limit rejected), and —
 * with `userCheck` — a `check` function and an `onFailure` of "evict", "suspend" or a function.
 */
export const parseHealthCheck = <D>(check: Checker<D>, input: unknown, rules: HealthCheckRules<D>): HealthCheck | undefined => {
  if (rules.isSchedule(input)) {
    check.fail("healthCheck", "must be { schedule, timeout }, not a Schedule: write healthCheck: { schedule }")
  }
  const health = check.record("healthCheck", input)
  if (health === undefined) return undefined
  if (!rules.userCheck) {
    for (const key of ["check", "onFailure"]) {
      if (health[key] !== undefined) check.fail(`healthCheck.${key}`, "is the pool's own here (only schedule and timeout are yours)")
    }
  }
  const keys = rules.userCheck ? ["check", "schedule", "timeout", "onFailure"] : ["schedule", "timeout"]
  check.known(health, [...keys, ...(rules.extraKeys ?? [])], undefined, "healthCheck.")
  if (health.schedule !== undefined && !rules.isSchedule(health.schedule)) {
    check.fail("healthCheck.schedule", `must be a Schedule, got ${describeValue(health.schedule)}`)
  }
  const timeout = health.timeout === undefined && rules.timeout === undefined
    ? undefined
    : check.duration("healthCheck.timeout", health.timeout, rules.timeout as D, { zero: "reject" })
  if (!rules.userCheck) return { schedule: health.schedule, timeout, check: undefined, onFailure: "evict", input: health }
  if (typeof health.check !== "function") {
    check.fail("healthCheck.check", `must be a function, got ${describeValue(health.check)}`)
  }
  const onFailure = typeof health.onFailure === "function"
    ? health.onFailure as (error: unknown) => "evict" | "suspend"
    : check.oneOf("healthCheck.onFailure", health.onFailure, "evict", ["evict", "suspend"])
  return { schedule: health.schedule, timeout, check: health.check, onFailure, input: health }
}
