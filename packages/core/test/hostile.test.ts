/**
 * Hostile and careless input: every option of `Pool.make` and `KeyedPool.make` with wrong
 * types, out-of-range, overflowing, 0/Infinity/NaN values and unknown keys — as a JavaScript
 * caller or a `Config` could pass them. Each is a `PoolConfigError` naming the option (or has a
 * documented meaning), and a pool made afterwards works.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Metric, Option, Schedule } from "effect"
import { KeyedPool, OptionCheck, Pool, PoolConfigError } from "../src/index.js"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"

const acquire = Effect.succeed({ id: 1 })

/** `Pool.make` with options a JavaScript caller could pass; the error it fails with, if any. */
const makeError = (options: Record<string, unknown>) =>
  Effect.scoped(Pool.make(options as never)).pipe(Effect.flip, Effect.map((e) => e as PoolConfigError))

const bad: Array<[string, Record<string, unknown>, RegExp?]> = [
  // acquire and the callbacks
  ["acquire", {}],
  ["acquire", { acquire: undefined }],
  ["acquire", { acquire: "connect" }, /must be an Effect or a function returning one/],
  ["acquire", { acquire: 42 }],
  ["validate", { validate: "x" }],
  ["recycle", { recycle: 1 }],
  ["spans", { spans: "yes" }],
  ["createRetry", { createRetry: "forever" }],
  ["healthCheck", { healthCheck: "30 seconds" }],
  ["healthCheck.check", { healthCheck: {} }],
  ["healthCheck.schedule", { healthCheck: { check: () => Effect.void, schedule: 30_000 } }],
  ["healthCheck.onFailure", { healthCheck: { check: () => Effect.void, onFailure: "restart" } }],
  ["healthCheck.sheduel", { healthCheck: { check: () => Effect.void, sheduel: Schedule.forever } }, /did you mean "healthCheck.schedule"/],
  ["healthCheck", { healthCheck: Schedule.spaced("30 seconds") }, /write healthCheck: \{ schedule \}/],
  ["healthCheck.timeout", { healthCheck: { check: () => Effect.void, timeout: 0 } }],
  ["healthCheck.timeout", { healthCheck: { check: () => Effect.void, timeout: -1 } }],
  ["healthCheck.timeout", { healthCheck: { check: () => Effect.void, timeout: NaN } }],
  ["healthCheck.timeout", { healthCheck: { check: () => Effect.void, timeout: "soon" } }],
  // unknown keys, with a suggestion when one is close
  ["maxConection", { maxConection: 3 }, /is not a known option/],
  ["maxIdel", { maxIdel: 3 }, /did you mean "maxIdle"/],
  ["mx", { mx: 3 }],
  ["idleTimeoutMillis", { idleTimeoutMillis: 1000 }, /is not a known option/],
  // label
  ["name", { name: 42 }],
  ["name", { name: "" }],
  // counts
  ["max", { max: 0 }],
  ["max", { max: -1 }],
  ["max", { max: 1.5 }],
  ["max", { max: NaN }],
  ["max", { max: "10" }],
  ["max", { max: -Infinity }],
  ["min", { min: -1 }],
  ["min", { min: Infinity }],
  ["min", { min: 11 }],
  ["min", { min: "2" }],
  ["concurrency", { concurrency: 0 }],
  ["concurrency", { concurrency: 2.5 }],
  // Infinity borrowers per item would make the creation arithmetic NaN: rejected, finite only
  ["concurrency", { concurrency: Infinity }],
  ["maxUses", { maxUses: 0 }],
  ["maxWaiters", { maxWaiters: -1 }],
  ["maxWaiters", { maxWaiters: NaN }],
  ["maxIdle", { min: 2, maxIdle: 1 }],
  // fractions
  ["targetUtilization", { targetUtilization: 0 }],
  ["targetUtilization", { targetUtilization: 1.5 }],
  ["targetUtilization", { targetUtilization: NaN }],
  ["maxLifetimeJitter", { maxLifetimeJitter: -0.1 }],
  ["maxLifetimeJitter", { maxLifetimeJitter: "0.1" }],
  // choices and flags
  ["order", { order: "random" }],
  ["failWaitersOnCreateError", { failWaitersOnCreateError: 1 }],
  // a callback or object option that is null: rejected (the README says so), not "none"
  ["validate", { validate: null }],
  ["recycle", { recycle: null }],
  ["healthCheck", { healthCheck: null }]
]

const durations = [
  "acquireTimeout",
  "createTimeout",
  "idleTimeout",
  "maxLifetime",
  "validateAfterIdle",
  "validateTimeout",
  "recycleTimeout",
  "shutdownTimeout",
  "destroyTimeout",
  "leakDetectionThreshold"
]
for (const option of durations) {
  bad.push(
    [option, { [option]: -1 }],
    [option, { [option]: NaN }],
    [option, { [option]: "soon" }],
    [option, { [option]: "-5 seconds" }],
    [option, { [option]: {} }],
    [option, { [option]: true }]
  )
}

describe("Pool.make: hostile options", () => {
  for (const [option, options, reason] of bad) {
    it.effect(`${option} = ${OptionCheck.describeValue(Object.values(options)[0])} is a PoolConfigError naming it`, () =>
      Effect.gen(function*() {
        const withAcquire = "acquire" in options || option === "acquire" ? options : { acquire, ...options }
        const error = yield* makeError(withAcquire)
        expect(error).toBeInstanceOf(PoolConfigError)
        expect(error.option).toBe(option)
        if (reason !== undefined) expect(error.message).toMatch(reason)
      }))
  }

  it.effect("a number, duration, string or boolean option given as null is the default", () =>
    Effect.gen(function*() {
      const stats = yield* Effect.scoped(
        Effect.flatMap(Pool.make({ acquire, max: null, idleTimeout: null, name: null, spans: null } as never), (pool) =>
          Effect.zipRight(Pool.use(pool as Pool.Pool<number>, () => Effect.void), Pool.stats(pool as Pool.Pool<number>)))
      )
      expect(stats.max).toBe(10)
    }))

  it.effect("an option given as undefined is the default, not an unknown key", () =>
    Effect.gen(function*() {
      const stats = yield* Effect.scoped(
        Effect.flatMap(Pool.make({ acquire, max: undefined, name: undefined, spans: undefined }), (pool) =>
          Effect.zipRight(Pool.use(pool, () => Effect.void), Pool.stats(pool)))
      )
      expect(stats.max).toBe(10)
    }))

  it.effect("0 and Infinity mean what the README says: 0 ms timeouts time out at once, Infinity never", () =>
    Effect.gen(function*() {
      // Infinity counts and durations are "no limit"
      const stats = yield* Effect.scoped(
        Effect.flatMap(
          Pool.make({ acquire, max: Infinity, maxUses: Infinity, acquireTimeout: Infinity, idleTimeout: Infinity }),
          (pool) => Effect.zipRight(Pool.use(pool, () => Effect.void), Pool.stats(pool))
        )
      )
      expect(stats.max).toBe(Infinity)
      // maxWaiters 0: no waiting at all, a full pool turns borrowers away at once
      const rejected = yield* Effect.scoped(
        Effect.gen(function*() {
          const pool = yield* Pool.make({ acquire, max: 1, maxWaiters: 0 })
          yield* Pool.get(pool)
          return yield* Effect.flip(Effect.scoped(Pool.get(pool)))
        })
      )
      expect(rejected._tag).toBe("PoolQueueFullError")
    }))

  it.live("a duration past setTimeout's limit (30 days) is honoured, not fired at once", () =>
    Effect.gen(function*() {
      const pool = yield* Pool.make({ acquire, max: 1, acquireTimeout: "30 days" })
      const held = yield* Effect.forkScoped(Effect.scoped(Effect.zipRight(Pool.get(pool), Effect.never)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(Effect.scoped(Pool.get(pool)))
      // were the 30 days handed to setTimeout they would fire after 1 ms
      yield* Effect.sleep("50 millis")
      expect(Option.isNone(yield* Fiber.poll(waiter))).toBe(true)
      yield* Fiber.interrupt(held)
      const item = yield* Fiber.join(waiter)
      expect(item).toEqual({ id: 1 })
    }).pipe(Effect.scoped))

  it.effect("options a user's getter or Proxy throws on reading are a PoolConfigError naming them, never a defect", () =>
    Effect.gen(function*() {
      const base = { acquire: Effect.succeed(1) }
      for (const key of ["max", "idleTimeout", "name"]) {
        const error = yield* makeError(throwingGetter(base, key))
        expect(error.option).toBe(key)
        expect(error.reason).toMatch(new RegExp(`could not be read: Error: reading ${key} throws`))
      }
      expect((yield* makeError(throwingKeys(base))).option).toBe("options")
      // a Proxy that throws on reading any key it does not list: every option is read from the copy made of its own keys
      expect((yield* makeError(throwingReads({ ...base, max: 0 }))).option).toBe("max")
      const keyedReads = yield* Effect.flip(Effect.scoped(KeyedPool.make(throwingReads({ acquire: (key: string) => Effect.succeed({ key }), maxPerKey: 0 }) as never)))
      expect((keyedReads as PoolConfigError).option).toBe("maxPerKey")
      // an own __proto__ key (JSON.parse makes one) is an unknown key, not a lookup into Object.prototype
      const proto = yield* makeError(protoKey(base))
      expect([proto.option, proto.reason]).toEqual(["__proto__", "is not a known option"])
      // a count past 2^53 − 1 (n + 1 === n there)
      expect((yield* makeError({ ...base, max: 2 ** 53 })).reason).toMatch(/must be at most 9007199254740991/)
      const keyed = yield* Effect.flip(Effect.scoped(KeyedPool.make(throwingGetter({ acquire: (key: string) => Effect.succeed({ key }) }, "maxPerKey") as never)))
      expect((keyed as PoolConfigError).option).toBe("maxPerKey")
    }))

  it.effect("a pool made after every rejected option works", () =>
    Effect.gen(function*() {
      for (const [, options] of bad) yield* Effect.either(Effect.scoped(Pool.make(options as never)))
      const id = yield* Effect.scoped(Effect.flatMap(Pool.make({ acquire, max: 2 }), (pool) => Pool.use(pool, (c) => Effect.succeed(c.id))))
      expect(id).toBe(1)
    }))
})

describe("KeyedPool.make: hostile options", () => {
  const keyedAcquire = (key: string) => Effect.succeed({ key })
  const cases: Array<[string, Record<string, unknown>]> = [
    ["acquire", { acquire: Effect.succeed(1) }],
    ["maxPerKey", { maxPerKey: 0 }],
    ["maxPerKey", { maxPerKey: "4" }],
    ["maxPerKey", { maxPerKey: 2, min: 3 }],
    ["maxTotal", { maxTotal: NaN }],
    ["maxIdleTotal", { maxIdleTotal: 0.5 }],
    ["idleKeyTimeout", { idleKeyTimeout: "later" }],
    ["maxPerKy", { maxPerKy: 3 }],
    // a keyed pool's per-key limit is maxPerKey (the type has no max): never read silently
    ["max", { max: 4 }]
  ]
  for (const [option, options] of cases) {
    it.effect(`${option}: ${OptionCheck.describeValue(Object.values(options)[0])} is a PoolConfigError naming it`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.scoped(KeyedPool.make({ acquire: keyedAcquire, ...options } as never)))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect((error as PoolConfigError).option).toBe(option === "maxPerKey" && "min" in options ? "min" : option)
      }))
  }

  it.effect("the suggestion for a misspelt keyed option names the keyed option", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(KeyedPool.make({ acquire: keyedAcquire, maxPerKy: 3 } as never)))
      expect((error as PoolConfigError).message).toMatch(/did you mean "maxPerKey"/)
    }))
})

describe("Pool.resize: hostile sizes", () => {
  // the argument is checked like make's options: "options" names the argument itself
  const sizes: Array<[string, string, unknown, RegExp?]> = [
    ["null", "options", null, /invalid option options: must be an object, got null/],
    ["undefined", "options", undefined, /must be an object, got undefined/],
    ["5", "options", 5],
    ["\"x\"", "options", "x"],
    ["[3]", "options", [3]],
    ["{ maz: 5 }", "maz", { maz: 5 }, /did you mean "max"/],
    ["{ max: 5, idleTimeout: 1000 }", "idleTimeout", { max: 5, idleTimeout: 1000 }, /is not a known option/],
    ["{ max: \"5\" }", "max", { max: "5" }],
    ["{ max: 0 }", "max", { max: 0 }],
    ["{ min: 11 }", "min", { min: 11 }],
    ["a max getter that throws", "max", throwingGetter({ min: 1 }, "max"), /could not be read: Error: reading max throws/],
    ["a Proxy whose ownKeys throws", "options", throwingKeys({ max: 2 }), /could not be read/]
  ]
  for (const [what, option, size, reason] of sizes) {
    it.effect(`resize(${what}) is a PoolConfigError naming ${option}, in the error channel, changing nothing`, () =>
      Effect.gen(function*() {
        const pool = yield* Pool.make({ name: "sized", acquire, min: 1 })
        let resize: Effect.Effect<void, PoolConfigError> | undefined
        expect(() => (resize = Pool.resize(pool, size as never))).not.toThrow()
        const error = yield* Effect.flip(resize!)
        expect(error).toBeInstanceOf(PoolConfigError)
        expect(error).toMatchObject({ pool: "sized", option })
        if (reason !== undefined) expect(error.message).toMatch(reason)
        expect(yield* Pool.stats(pool)).toMatchObject({ min: 1, max: 10 })
        yield* Pool.resize(pool, { max: 3 })
        expect(yield* Pool.stats(pool)).toMatchObject({ min: 1, max: 3 })
      }).pipe(Effect.scoped))
  }

  it.effect("a size's undefined and null entries are not given: they keep the current value, as at make", () =>
    Effect.gen(function*() {
      const pool = yield* Pool.make({ acquire, min: 1, max: 4 })
      yield* Pool.resize(pool, { min: undefined, max: undefined })
      expect(yield* Pool.stats(pool)).toMatchObject({ min: 1, max: 4 })
      yield* Pool.resize(pool, { min: null, max: null } as never)
      expect(yield* Pool.stats(pool)).toMatchObject({ min: 1, max: 4 })
      yield* Pool.resize(pool, {})
      expect(yield* Pool.stats(pool)).toMatchObject({ min: 1, max: 4 })
    }).pipe(Effect.scoped))
})

describe("KeyedPool: hostile keys", () => {
  const unprintable: Array<[string, unknown]> = [
    ["a null-prototype object", Object.create(null)],
    ["an object whose toString throws", { toString: () => { throw new Error("toString") } }],
    ["an object whose Symbol.toPrimitive throws", { [Symbol.toPrimitive]: () => { throw new Error("toPrimitive") } }]
  ]
  /** The `key` labels of the metrics of keyed pool `name`. */
  const keyLabels = (name: string) =>
    Effect.map(Metric.snapshot, (pairs) =>
      new Set(pairs.flatMap((p) =>
        p.metricKey.tags.some((t) => t.key === "pool" && t.value === name)
          ? p.metricKey.tags.filter((t) => t.key === "key").map((t) => t.value)
          : []
      )))
  unprintable.forEach(([what, key], i) => {
    it.effect(`${what} is a key like any other (its metrics label a description), never a defect`, () =>
      Effect.gen(function*() {
        const name = `hostile-key-${i}`
        const pool = yield* KeyedPool.make({ name, acquire: (k: unknown) => Effect.succeed({ k }), maxPerKey: 1 })
        expect(yield* KeyedPool.use(pool, key, (item) => Effect.succeed(item.k === key))).toBe(true)
        expect(yield* KeyedPool.use(pool, key, (item) => Effect.succeed(item.k === key))).toBe(true)
        expect(yield* KeyedPool.stats(pool)).toMatchObject({ keys: 1, size: 1, borrowed: 0 })
        expect([...(yield* keyLabels(name))]).toEqual(["an object that cannot be printed"])
      }).pipe(Effect.scoped))
  })

  it.effect("a key with a string form keeps it as its label", () =>
    Effect.gen(function*() {
      const pool = yield* KeyedPool.make({ name: "printable-keys", acquire: (k: unknown) => Effect.succeed({ k }) })
      yield* KeyedPool.use(pool, "https://a.example", () => Effect.void)
      yield* KeyedPool.use(pool, 7, () => Effect.void)
      yield* KeyedPool.use(pool, { toString: () => "shard-1" }, () => Effect.void)
      expect(yield* keyLabels("printable-keys")).toEqual(new Set(["https://a.example", "7", "shard-1"]))
    }).pipe(Effect.scoped))
  it.effect("plain-object and array keys compare as the README says for this edition (by reference: two { id: 1 } literals, two [1] arrays are four keys); strings by value", () =>
    Effect.gen(function*() {
      const pool = yield* KeyedPool.make({ acquire: (k: unknown) => Effect.succeed({ k }) })
      for (const key of [{ id: 1 }, { id: 1 }, [1], [1], "a", "a"]) yield* KeyedPool.use(pool, key, () => Effect.void)
      expect((yield* KeyedPool.stats(pool)).keys).toBe(5)
    }).pipe(Effect.scoped))
})

describe("OptionCheck", () => {
  const run = <A>(f: (check: OptionCheck.Checker) => A) => OptionCheck.run("p", f)

  it("duration edges: 0 → none or rejected as asked, Infinity → none, max enforced", () => {
    expect(run((c) => c.duration("t", 0, "1 second", { zero: "none" }))).toStrictEqual(Either.right(Infinity))
    expect(Either.isLeft(run((c) => c.duration("t", 0, "1 second", { zero: "reject" })))).toBe(true)
    expect(run((c) => c.duration("t", Infinity, "1 second"))).toStrictEqual(Either.right(Infinity))
    expect(Either.isLeft(run((c) => c.duration("t", Infinity, "1 second", { infinity: "reject" })))).toBe(true)
    expect(Either.isLeft(run((c) => c.duration("t", "30 days", "1 second", { max: OptionCheck.MAX_TIMER_MILLIS })))).toBe(true)
    expect(run((c) => c.duration("t", "30 days", "1 second"))).toStrictEqual(Either.right(30 * 86_400_000))
    expect(run((c) => c.duration("t", undefined, "1 second"))).toStrictEqual(Either.right(1000))
  })

  it("timerMillis: past the timer limit or Infinity is never", () => {
    expect(OptionCheck.timerMillis(1000)).toBe(1000)
    expect(OptionCheck.timerMillis(OptionCheck.MAX_TIMER_MILLIS)).toBe(OptionCheck.MAX_TIMER_MILLIS)
    expect(OptionCheck.timerMillis(OptionCheck.MAX_TIMER_MILLIS + 1)).toBeUndefined()
    expect(OptionCheck.timerMillis(Infinity)).toBeUndefined()
  })

  it("known: aliases name our option; a close key is suggested; a far one is not", () => {
    const alias = run((c) => c.known({ maxConnections: 3 }, ["max"], { maxConnections: "max" }))
    expect(Either.isLeft(alias) && alias.left.message).toMatch(/use "max" instead/)
    const near = run((c) => c.known({ maxConection: 3 }, ["maxConnections", "min"]))
    expect(Either.isLeft(near) && near.left.message).toMatch(/did you mean "maxConnections"/)
    const prefix = run((c) => c.known({ maxConection: 3 }, ["maxLifetime", "maxConnectionsPerOrigin"]))
    expect(Either.isLeft(prefix) && prefix.left.message).toMatch(/did you mean "maxConnectionsPerOrigin"/)
    const far = run((c) => c.known({ zzzzzzzz: 3 }, ["max", "min"]))
    expect(Either.isLeft(far) && far.left.message).not.toMatch(/did you mean/)
  })

  it("values in reasons never print an object's contents (they may hold secrets)", () => {
    const result = run((c) => c.string("password", { secret: "hunter2" }, undefined))
    expect(Either.isLeft(result) && result.left.message).not.toMatch(/hunter2/)
  })
})

describe("options that are not an object", () => {
  it.effect("Pool.make and KeyedPool.make with undefined, null, 5 or an array are a PoolConfigError naming options, not a defect", () =>
    Effect.gen(function*() {
      for (const given of [undefined, null, 5, [1]]) {
        for (const make of [() => Pool.make(given as never), () => KeyedPool.make(given as never)]) {
          const error = yield* Effect.flip(Effect.scoped(make() as Effect.Effect<unknown, PoolConfigError, never>))
          expect(error).toBeInstanceOf(PoolConfigError)
          expect(error.option).toBe("options")
        }
      }
    }))
})
