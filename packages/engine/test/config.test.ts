/** Pool configuration: the defaults, what each option becomes, and the cross-option rules. */
import { describe, expect, it } from "vitest"
import * as Config from "../src/config.js"
import * as Options from "../src/options.js"
import { checker, config } from "./helpers.js"

const reason = (input: Config.ConfigInput<number>, maxName?: string): string => {
  const result = Options.checkWith(checker, (check) => Config.parse(check, input, maxName))
  return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : "valid"
}

describe("Config.parse", () => {
  it("no options: every default", () => {
    expect(config()).toEqual({
      name: "pool",
      min: 0,
      max: 10,
      concurrency: 1,
      targetUtilization: 1,
      acquireTimeout: 30_000,
      createTimeout: 30_000,
      idleTimeout: 600_000,
      maxLifetime: Infinity,
      lifetimeJitter: 0.1,
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
    })
  })

  it("every option given is what the configuration holds", () => {
    const input = {
      name: "db",
      min: 1,
      max: 5,
      concurrency: 2,
      targetUtilization: 0.5,
      acquireTimeout: 1,
      createTimeout: 2,
      idleTimeout: 3,
      maxLifetime: 4,
      maxLifetimeJitter: 0,
      maxUses: 6,
      maxWaiters: 7,
      maxIdle: 3,
      order: "fifo",
      validateAfterIdle: 8,
      validateTimeout: 9,
      recycleTimeout: 10,
      shutdownTimeout: 11,
      destroyTimeout: 12,
      leakDetectionThreshold: 13,
      failWaitersOnCreateError: true
    } as const
    expect(config(input)).toEqual({ ...input, lifetimeJitter: 0, maxLifetimeJitter: undefined })
  })

  it("configKeys are the option names parse reads; effectfulKeys the edition's", () => {
    expect(Config.configKeys).toEqual(Object.keys(Config.defaults))
    expect(Config.configKeys).toContain("maxLifetimeJitter")
    expect(Config.effectfulKeys).toEqual(["acquire", "validate", "recycle", "healthCheck", "createRetry", "spans"])
  })

  it("cross-option rules: min ≤ max, maxIdle ≥ min, named as the user wrote max", () => {
    expect(reason({ min: 3, max: 2 })).toBe("min: must not exceed max (2)")
    expect(reason({ min: 3, max: 2 }, "maxPerKey")).toBe("min: must not exceed maxPerKey (2)")
    expect(reason({ max: 0 }, "maxPerKey")).toBe("maxPerKey: must be at least 1, got 0")
    expect(reason({ min: 2, max: 2 })).toBe("valid")
    expect(reason({ min: 2, maxIdle: 1 })).toBe("maxIdle: must be at least min (2), got 1")
    expect(reason({ min: 2, maxIdle: 2 })).toBe("valid")
  })

  it("each option's own rule", () => {
    expect(reason({ name: " " })).toBe("name: must not be empty")
    expect(reason({ max: Infinity })).toBe("valid")
    expect(reason({ min: -1 })).toBe("min: must be at least 0, got -1")
    expect(reason({ min: Infinity })).toBe("min: must be finite")
    expect(reason({ maxIdle: 0 })).toBe("valid")
    expect(reason({ maxIdle: -1 })).toBe("maxIdle: must be at least 0, got -1")
    expect(reason({ concurrency: 0 })).toBe("concurrency: must be at least 1, got 0")
    expect(reason({ concurrency: Infinity })).toBe("concurrency: must be finite")
    expect(reason({ targetUtilization: 0 })).toBe("targetUtilization: must be in (0, 1], got 0")
    expect(reason({ maxLifetimeJitter: 0 })).toBe("valid")
    expect(reason({ maxLifetimeJitter: 2 })).toBe("maxLifetimeJitter: must be in [0, 1], got 2")
    expect(reason({ maxUses: 0 })).toBe("maxUses: must be at least 1, got 0")
    expect(reason({ maxWaiters: 0 })).toBe("valid")
    expect(reason({ maxWaiters: Infinity })).toBe("valid")
    expect(reason({ maxWaiters: -1 })).toBe("maxWaiters: must be at least 0, got -1")
    expect(reason({ order: "random" as never })).toBe('order: must be one of "lifo", "fifo"; got "random"')
    expect(reason({ failWaitersOnCreateError: 1 as never })).toBe("failWaitersOnCreateError: must be true or false, got 1")
    for (const key of ["acquireTimeout", "createTimeout", "idleTimeout", "maxLifetime", "validateAfterIdle", "validateTimeout", "recycleTimeout", "shutdownTimeout", "destroyTimeout", "leakDetectionThreshold"]) {
      expect(reason({ [key]: -1 })).toBe(`${key}: must be a non-negative duration, got -1`)
    }
  })
})

describe("Config.parseKeyedLimits", () => {
  const limits = (input: Parameters<typeof Config.parseKeyedLimits<number>>[1]) => {
    const result = Options.checkWith(checker, (check) => Config.parseKeyedLimits(check, input))
    return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : result.value
  }
  it("defaults: no total limits, keys idle for 5 minutes are removed", () => {
    expect(limits({})).toEqual({ maxTotal: Infinity, maxIdleTotal: Infinity, idleKeyTimeout: 300_000 })
    expect(limits({ maxTotal: 4, maxIdleTotal: 0, idleKeyTimeout: 10 })).toEqual({ maxTotal: 4, maxIdleTotal: 0, idleKeyTimeout: 10 })
  })
  it("maxTotal ≥ 1, maxIdleTotal ≥ 0, idleKeyTimeout a duration", () => {
    expect(limits({ maxTotal: 0 })).toBe("maxTotal: must be at least 1, got 0")
    expect(limits({ maxIdleTotal: -1 })).toBe("maxIdleTotal: must be at least 0, got -1")
    expect(limits({ idleKeyTimeout: -1 })).toBe("idleKeyTimeout: must be a non-negative duration, got -1")
  })
})

describe("parseHealthCheck: the one healthCheck shape", () => {
  const isSchedule = (input: unknown) => typeof input === "object" && input !== null && "schedule!" in input
  const schedule = { "schedule!": true }
  const parse = (input: unknown, userCheck: boolean, extraKeys?: ReadonlyArray<string>, timeout?: number) =>
    Options.checkWith(checker, (check) => Config.parseHealthCheck(check, input, { isSchedule, userCheck, extraKeys, timeout }))
  const fails = (input: unknown, userCheck: boolean, option: string, reason?: RegExp) => {
    const result = parse(input, userCheck, ["service"])
    expect(result._tag).toBe("Invalid")
    if (result._tag === "Invalid") {
      expect(result.option).toBe(option)
      if (reason !== undefined) expect(result.reason).toMatch(reason)
    }
  }

  it("undefined is off; the check, the schedule and the record are handed back; onFailure defaults to evict", () => {
    expect(parse(undefined, true)).toEqual({ _tag: "Valid", value: undefined })
    const check = () => 1
    const valid = parse({ check, schedule }, true)
    expect(valid).toEqual({ _tag: "Valid", value: { schedule, timeout: undefined, check, onFailure: "evict", input: { check, schedule } } })
    const decide = () => "suspend" as const
    expect(parse({ check, onFailure: decide, timeout: 100 }, true)).toMatchObject({ value: { onFailure: decide, timeout: 100 } })
    expect(parse({ check, onFailure: "suspend" }, true)).toMatchObject({ value: { onFailure: "suspend" } })
  })

  it("a kind's: only schedule, timeout and its own keys; its default timeout applies; Infinity is no limit", () => {
    expect(parse({ service: "s" }, false, ["service"], 5_000)).toMatchObject({ value: { timeout: 5_000, input: { service: "s" } } })
    expect(parse({ timeout: Infinity }, false)).toMatchObject({ value: { timeout: Infinity } })
    expect(parse({}, false)).toMatchObject({ value: { timeout: undefined, schedule: undefined } })
  })

  it("hostile: each bad value names its option", () => {
    fails(schedule, false, "healthCheck", /write healthCheck: \{ schedule \}/)
    fails("30 seconds", true, "healthCheck")
    fails([], true, "healthCheck")
    fails(null, true, "healthCheck")
    fails({}, true, "healthCheck.check")
    fails({ check: "x" }, true, "healthCheck.check")
    fails({ check: () => 1, onFailure: "restart" }, true, "healthCheck.onFailure")
    fails({ check: () => 1 }, false, "healthCheck.check", /the pool's own/)
    fails({ onFailure: "evict" }, false, "healthCheck.onFailure")
    fails({ schedule: 30_000 }, false, "healthCheck.schedule")
    fails({ timeout: 0 }, false, "healthCheck.timeout")
    fails({ timeout: -1 }, false, "healthCheck.timeout")
    fails({ timeout: NaN }, false, "healthCheck.timeout")
    fails({ timeout: "soon" }, false, "healthCheck.timeout")
    fails({ sheduel: schedule }, false, "healthCheck.sheduel", /did you mean "healthCheck.schedule"/)
    fails({ interval: 1 }, true, "healthCheck.interval")
  })
})

describe("Config.resize", () => {
  const base = config({ min: 2, max: 8, idleTimeout: 1000 })
  const resized = (size: unknown): string | Config.PoolConfig => {
    const result = Options.checkWith(checker, (check) => Config.resize(check, base, size))
    return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : result.value
  }

  it("changes min and max only; an omitted min shrinks to fit a smaller max", () => {
    expect(resized({ max: 4 })).toEqual({ ...base, max: 4 })
    expect(resized({ max: 1 })).toEqual({ ...base, min: 1, max: 1 })
    expect(resized({ min: 0, max: undefined })).toEqual({ ...base, min: 0 })
    expect(resized({})).toEqual(base)
    // null is not given, as in make's options: the current value
    expect(resized({ min: null, max: null })).toEqual(base)
  })

  it("a size that is not an object of min/max numbers names the option", () => {
    expect(resized(null)).toBe("options: must be an object, got null")
    expect(resized(undefined)).toBe("options: must be an object, got undefined")
    expect(resized(5)).toBe("options: must be an object, got 5")
    expect(resized({ max: "3" })).toBe("max: must be a number, got \"3\"")
    expect(resized({ mx: 3 })).toMatch(/^mx: is not a known option; did you mean "max"/)
    expect(resized({ max: 2, min: 3 })).toBe("min: must not exceed max (2)")
  })
})
