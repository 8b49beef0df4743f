/** Option checks: what each check accepts, what it rejects, and the reason it gives. */
import { describe, expect, it } from "vitest"
import * as Options from "../src/options.js"
import { checker, millis } from "./helpers.js"

/** The reason `f` fails with, as "option: reason" (or "valid"). */
const reason = (f: (check: Options.Checker<number>) => unknown): string => {
  const result = Options.checkWith(checker, f)
  return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : "valid"
}
const value = <A>(f: (check: Options.Checker<number>) => A): A => {
  const result = Options.checkWith(checker, f)
  if (result._tag === "Invalid") throw new Error(`${result.option}: ${result.reason}`)
  return result.value
}

describe("timer limits", () => {
  it("a delay is a timer delay up to 2^31 − 1 ms, not beyond, not Infinity", () => {
    expect(Options.MAX_TIMER_MILLIS).toBe(2 ** 31 - 1)
    expect(Options.timerMillis(0)).toBe(0)
    expect(Options.timerMillis(2 ** 31 - 1)).toBe(2 ** 31 - 1)
    expect(Options.timerMillis(2 ** 31)).toBeUndefined()
    expect(Options.timerMillis(Infinity)).toBeUndefined()
    expect(Options.timerMillis(Number.NaN)).toBeUndefined()
  })
})

describe("describeValue names values without their contents", () => {
  it("quotes strings, marks bigints, names functions, symbols, arrays and objects by kind", () => {
    expect(Options.describeValue("ab")).toBe('"ab"')
    expect(Options.describeValue(5n)).toBe("5n")
    expect(Options.describeValue(() => 1)).toBe("a function")
    expect(Options.describeValue(Symbol("s"))).toBe("Symbol(s)")
    expect(Options.describeValue([1])).toBe("an array")
    expect(Options.describeValue({ password: "x" })).toBe("an object")
    expect(Options.describeValue(null)).toBe("null")
    expect(Options.describeValue(undefined)).toBe("undefined")
    expect(Options.describeValue(1.5)).toBe("1.5")
    expect(Options.describeValue(true)).toBe("true")
  })
})

describe("formatMillis prints Duration.format's form", () => {
  it("units from days down to ms, zero units left out, fractions dropped", () => {
    expect(Options.formatMillis(Infinity)).toBe("Infinity")
    expect(Options.formatMillis(0)).toBe("0")
    expect(Options.formatMillis(1)).toBe("1ms")
    expect(Options.formatMillis(1000)).toBe("1s")
    expect(Options.formatMillis(60_000)).toBe("1m")
    expect(Options.formatMillis(3_600_000)).toBe("1h")
    expect(Options.formatMillis(86_400_000)).toBe("1d")
    expect(Options.formatMillis(86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000 + 5)).toBe("1d 2h 3m 4s 5ms")
    expect(Options.formatMillis(2_147_483_647)).toBe("24d 20h 31m 23s 647ms")
    expect(Options.formatMillis(1500.7)).toBe("1s 500ms")
  })
})

describe("suggestion: the known key a misspelt one meant", () => {
  const keys = ["max", "min", "idleTimeout", "maxConnectionsPerOrigin"]
  it("finds the closest key within the distance allowed", () => {
    expect(Options.suggestion("idleTimout", keys)).toBe("idleTimeout")
    expect(Options.suggestion("IDLETIMEOUT", keys)).toBe("idleTimeout") // case does not count
    expect(Options.suggestion("mix", keys)).toBe("max") // the first of equally close keys
    expect(Options.suggestion("maxConection", keys)).toBe("maxConnectionsPerOrigin") // a misspelt prefix
  })
  it("suggests nothing for a key too far from every known one", () => {
    expect(Options.suggestion("zzzzzzzzzz", keys)).toBeUndefined()
    expect(Options.suggestion("x", [])).toBeUndefined()
  })
  it("the allowed distance is 2, or half the key's length for longer keys", () => {
    // "abcd" → "abxy": distance 2 (allowed: max(2, 2) = 2)
    expect(Options.suggestion("abcd", ["abxy"])).toBe("abxy")
    // "abcd" → "axyz": distance 3 > 2
    expect(Options.suggestion("abcd", ["axyz"])).toBeUndefined()
    // 8 letters: 4 allowed
    expect(Options.suggestion("abcdefgh", ["abcdwxyz"])).toBe("abcdwxyz")
    expect(Options.suggestion("abcdefgh", ["abcvwxyz"])).toBeUndefined()
    // 10 letters: 5 allowed (floor of half)
    expect(Options.suggestion("abcdefghij", ["abcdevwxyz"])).toBe("abcdevwxyz")
    expect(Options.suggestion("abcdefghij", ["abcduvwxyz"])).toBeUndefined()
  })
  it("edit distance counts insertions, deletions and substitutions", () => {
    expect(Options.suggestion("abcdefgh", ["abcdefghijkl"])).toBe("abcdefghijkl") // prefix match: 0 + 1
    expect(Options.suggestion("abcdefgh", ["xbcdefgh"])).toBe("xbcdefgh") // 1 substitution
    expect(Options.suggestion("abcdefgh", ["abcefgh"])).toBe("abcefgh") // 1 deletion
    expect(Options.suggestion("abcd", ["abcdefg"])).toBe("abcdefg") // prefix: 0 + 1
    // the closer of two candidates wins whichever comes first
    expect(Options.suggestion("abcdefgh", ["abcdexyz", "abcdefgz"])).toBe("abcdefgz")
    expect(Options.suggestion("abcdefgh", ["abcdefgz", "abcdexyz"])).toBe("abcdefgz")
    // a later candidate at the same distance does not replace the first
    expect(Options.suggestion("abcdefgh", ["abcdefgx", "abcdefgy"])).toBe("abcdefgx")
  })
  it("distance is symmetric in insertions: a longer key is as far as a shorter one", () => {
    expect(Options.suggestion("abcdefghij", ["abcdefghijxyzuv"])).toBe("abcdefghijxyzuv")
    expect(Options.suggestion("bcdefghij", ["abcdefghij"])).toBe("abcdefghij")
    expect(Options.suggestion("acdefghij", ["abcdefghij"])).toBe("abcdefghij")
  })
})

describe("known: unknown option keys", () => {
  it("accepts known keys, keys set to undefined, and no input", () => {
    expect(reason((c) => c.known({ max: 1, other: undefined }, ["max"]))).toBe("valid")
    expect(reason((c) => c.known(undefined, ["max"]))).toBe("valid")
  })
  it("names a foreign option with ours, and a misspelt one with the nearest", () => {
    expect(reason((c) => c.known({ poolName: "x" }, ["name"], { poolName: "name" }))).toBe(
      'poolName: is not an option here; use "name" instead'
    )
    expect(reason((c) => c.known({ maxx: 1 }, ["max"]))).toBe('maxx: is not a known option; did you mean "max"?')
    expect(reason((c) => c.known({ qqqqqqqq: 1 }, ["max"]))).toBe("qqqqqqqq: is not a known option")
    expect(reason((c) => c.known({ qqqqqqqq: 1 }, ["max"], { other: "max" }))).toBe("qqqqqqqq: is not a known option")
  })
  it("prefixes nested option names", () => {
    expect(reason((c) => c.known({ maxx: 1 }, ["max"], undefined, "tls."))).toBe(
      'tls.maxx: is not a known option; did you mean "tls.max"?'
    )
    expect(reason((c) => c.known({ a: 1 }, ["b"], { a: "b" }, "tls."))).toBe('tls.a: is not an option here; use "tls.b" instead')
  })
})

describe("options a user's code throws on reading", () => {
  const getter = (key: string): object =>
    Object.defineProperty({}, key, { enumerable: true, get: () => { throw new Error(`no ${key}`) } })
  const unlisted = new Proxy({}, { ownKeys: () => { throw new Error("no keys") } })

  it("known: a getter that throws names its option (nested: with the prefix), a Proxy that cannot list its keys the object", () => {
    expect(reason((c) => c.known(getter("max"), ["max"]))).toBe("max: could not be read: Error: no max")
    expect(reason((c) => c.known(getter("servername"), ["servername"], {}, "tls."))).toBe("tls.servername: could not be read: Error: no servername")
    expect(reason((c) => c.known(unlisted, ["max"]))).toBe("options: could not be read: Error: no keys")
    expect(reason((c) => c.known(unlisted, ["time"], {}, "keepalive."))).toBe("keepalive: could not be read: Error: no keys")
  })

  it("record: every entry read once under the guard; a key that is no identifier in brackets", () => {
    expect(reason((c) => c.record("env", getter("HOME")))).toBe("env.HOME: could not be read: Error: no HOME")
    expect(reason((c) => c.record("channelOptions", getter("grpc.max")))).toBe('channelOptions["grpc.max"]: could not be read: Error: no grpc.max')
    expect(reason((c) => c.record("options", getter("max")))).toBe("max: could not be read: Error: no max")
    expect(value((c) => c.record("env", { HOME: "/" }))).toEqual({ HOME: "/" })
  })

  it("options: a pool's whole options object, required — undefined fails like null, named options", () => {
    expect(reason((c) => c.options(undefined))).toBe("options: must be an object, got undefined")
    expect(reason((c) => c.options(null))).toBe("options: must be an object, got null")
    expect(reason((c) => c.options([1]))).toBe("options: must be an object, got an array")
    expect(value((c) => c.options({ max: 1 }))).toEqual({ max: 1 })
  })

  it("a thrown value whose message cannot be read is still a failed check", () => {
    const hostile = Object.defineProperty(new Error(), "message", { get: () => { throw new Error("again") } })
    const o = Object.defineProperty({}, "max", { enumerable: true, get: () => { throw hostile } })
    expect(reason((c) => c.known(o, ["max"]))).toBe("max: could not be read: an exception")
    const object = Object.defineProperty({}, "max", { enumerable: true, get: () => { throw { secret: 1 } } })
    expect(reason((c) => c.known(object, ["max"]))).toBe("max: could not be read: an object")
    const s = Object.defineProperty({}, "max", { enumerable: true, get: () => { throw "plain" } })
    expect(reason((c) => c.known(s, ["max"]))).toBe('max: could not be read: "plain"')
  })

  it("known: an own __proto__ or toString key is unknown, never a lookup into Object.prototype's aliases", () => {
    const proto = JSON.parse('{"__proto__": 1}') as object
    expect(reason((c) => c.known(proto, ["max"], { size: "max" }))).toBe("__proto__: is not a known option")
    expect(reason((c) => c.known({ toString: 1 }, ["max"], { size: "max" }))).toBe("toString: is not a known option")
  })

  it("nameOf: a non-blank string or the fallback, also when reading throws", () => {
    expect(Options.nameOf({ name: "orders" }, "pool")).toBe("orders")
    expect(Options.nameOf({ poolName: "w" }, "worker", "poolName")).toBe("w")
    expect(Options.nameOf({ name: "  " }, "pool")).toBe("pool")
    expect(Options.nameOf({ name: 4 }, "pool")).toBe("pool")
    expect(Options.nameOf(null, "pool")).toBe("pool")
    expect(Options.nameOf("orders", "pool")).toBe("pool")
    expect(Options.nameOf(getter("name"), "pool")).toBe("pool")
  })
})

describe("integer: counts stay exact", () => {
  it("past 2^53 − 1 is rejected (n + 1 === n there); up to it accepted", () => {
    expect(reason((c) => c.integer("max", 2 ** 53, 1, { min: 1 }))).toBe("max: must be at most 9007199254740991, got 9007199254740992")
    expect(value((c) => c.integer("max", Number.MAX_SAFE_INTEGER, 1, { min: 1 }))).toBe(Number.MAX_SAFE_INTEGER)
    expect(value((c) => c.integer("max", Infinity, 1, { min: 1, infinity: true }))).toBe(Infinity)
  })
})

describe("duration", () => {
  it("decodes with the edition's codec, the fallback when undefined", () => {
    expect(value((c) => c.duration("t", 250, 0))).toBe(250)
    expect(value((c) => c.duration("t", undefined, 100))).toBe(100)
    expect(value((c) => c.duration("t", Infinity, 100))).toBe(Infinity)
  })
  it("rejects negative durations in every input form", () => {
    expect(reason((c) => c.duration("t", -1, 0))).toBe("t: must be a non-negative duration, got -1")
    expect(reason((c) => c.duration("t", -1n, 0))).toBe("t: must be a non-negative duration, got -1n")
    expect(reason((c) => c.duration("t", " -5 millis", 0))).toBe('t: must be a non-negative duration, got " -5 millis"')
    expect(reason((c) => c.duration("t", [1, -2], 0))).toBe("t: must be a non-negative duration, got an array")
    expect(reason((c) => c.duration("t", [1, Infinity], 0))).toBe("t: must be a non-negative duration, got an array")
    expect(reason((c) => c.duration("t", [1, "2"], 0))).toBe("t: must be a non-negative duration, got an array")
  })
  it("non-negative inputs of those forms go to the codec", () => {
    // the test codec accepts numbers only
    expect(reason((c) => c.duration("t", 0n, 0))).toBe("t: is not a duration: 0n")
    expect(reason((c) => c.duration("t", "5 millis", 0))).toBe('t: is not a duration: "5 millis"')
    expect(reason((c) => c.duration("t", [1, 2], 0))).toBe("t: is not a duration: an array")
  })
  it("NaN and what the codec refuses are not durations", () => {
    expect(reason((c) => c.duration("t", Number.NaN, 0))).toBe("t: must be a duration, got NaN")
    expect(reason((c) => c.duration("t", {}, 0))).toBe("t: is not a duration: an object")
    const nan = Options.makeChecker<number>({ decode: () => Number.NaN })
    const r = Options.checkWith(nan, (c) => c.duration("t", 5, 0))
    expect(r).toEqual(new Options.OptionInvalid("t", "is not a duration: 5"))
  })
  it("zero: allowed by default, rejected, or meaning none", () => {
    expect(value((c) => c.duration("t", 0, 1))).toBe(0)
    expect(value((c) => c.duration("t", 0, 1, { zero: "allow" }))).toBe(0)
    expect(reason((c) => c.duration("t", 0, 1, { zero: "reject" }))).toBe("t: must be greater than 0")
    expect(value((c) => c.duration("t", 0, 1, { zero: "none" }))).toBe(Infinity)
    expect(value((c) => c.duration("t", 1, 1, { zero: "reject" }))).toBe(1)
  })
  it("Infinity: no limit by default, or rejected", () => {
    expect(value((c) => c.duration("t", Infinity, 1, { infinity: "none" }))).toBe(Infinity)
    expect(reason((c) => c.duration("t", Infinity, 1, { infinity: "reject" }))).toBe("t: must be finite")
    expect(value((c) => c.duration("t", Infinity, 1, { max: 10 }))).toBe(Infinity)
  })
  it("a positive input the codec rounds to 0 (under a nanosecond, as Effect does) is one nanosecond, never zero", () => {
    // Effect rounds every form to whole nanoseconds: 1e-9 ms, [0, 0.5], "0.0000001 millis" decode to 0
    const rounding = Options.makeChecker<unknown>({ decode: (input) => (typeof input === "number" ? (input < 1e-6 ? 0 : input) : 0) })
    const ms = (input: unknown, rules?: Options.DurationRules) => {
      const r = Options.checkWith(rounding, (c) => c.duration("t", input, 1, rules))
      return r._tag === "Valid" ? r.value : `${r.option}: ${r.reason}`
    }
    for (const input of [1e-9, Number.MIN_VALUE, [0, 0.5], "0.0000001 millis", { nanoseconds: 0.1 }]) {
      expect(ms(input, { zero: "reject" }), JSON.stringify(input)).toBe(Options.NANOSECOND_MILLIS)
      expect(ms(input, { zero: "none" }), JSON.stringify(input)).toBe(Options.NANOSECOND_MILLIS)
    }
    // a real zero is still zero, in every form
    for (const input of [0, -0, 0n, [0, 0], "0 millis", { seconds: 0 }]) {
      expect(ms(input, { zero: "reject" }), String(input)).toBe("t: must be greater than 0")
    }
  })
  it("the string \"Infinity\" (Effect 4's Duration string) is Infinity whatever the codec, as the number", () => {
    expect(value((c) => c.duration("t", "Infinity", 1))).toBe(Infinity)
    expect(reason((c) => c.duration("t", "Infinity", 1, { infinity: "reject" }))).toBe("t: must be finite")
    expect(reason((c) => c.duration("t", "infinity", 1))).toBe('t: is not a duration: "infinity"')
    expect(reason((c) => c.duration("t", "-Infinity", 1))).toBe('t: must be a non-negative duration, got "-Infinity"')
  })
  it("a maximum, inclusive, named in both forms", () => {
    expect(value((c) => c.duration("t", 10, 1, { max: 10 }))).toBe(10)
    expect(reason((c) => c.duration("t", 11, 1, { max: 10 }))).toBe("t: must be at most 10ms (10 ms), got 11 ms")
  })
})

describe("integer", () => {
  it("a whole number in range, the fallback when undefined", () => {
    expect(value((c) => c.integer("n", 3, 1, { min: 0 }))).toBe(3)
    expect(value((c) => c.integer("n", undefined, 7, { min: 0 }))).toBe(7)
    expect(value((c) => c.integer("n", 0, 7, { min: 0 }))).toBe(0)
    expect(value((c) => c.integer("n", 5, 7, { min: 0, max: 5 }))).toBe(5)
  })
  it("rejects non-numbers, NaN, fractions and numbers out of range", () => {
    expect(reason((c) => c.integer("n", "3", 1, { min: 0 }))).toBe('n: must be a number, got "3"')
    expect(reason((c) => c.integer("n", Number.NaN, 1, { min: 0 }))).toBe("n: must be a number, got NaN")
    expect(reason((c) => c.integer("n", 1.5, 1, { min: 0 }))).toBe("n: must be a whole number, got 1.5")
    expect(reason((c) => c.integer("n", -1, 1, { min: 0 }))).toBe("n: must be at least 0, got -1")
    expect(reason((c) => c.integer("n", 6, 1, { min: 0, max: 5 }))).toBe("n: must be at most 5, got 6")
  })
  it("Infinity only where allowed; never -Infinity", () => {
    expect(value((c) => c.integer("n", Infinity, 1, { min: 0, infinity: true }))).toBe(Infinity)
    expect(reason((c) => c.integer("n", Infinity, 1, { min: 0 }))).toBe("n: must be finite")
    expect(reason((c) => c.integer("n", Infinity, 1, { min: 0, infinity: false }))).toBe("n: must be finite")
    expect(reason((c) => c.integer("n", -Infinity, 1, { min: 0, infinity: true }))).toBe("n: must be finite")
  })
})

describe("number", () => {
  it("a finite number within optional bounds", () => {
    expect(value((c) => c.number("x", 0.5, 1))).toBe(0.5)
    expect(value((c) => c.number("x", undefined, 1))).toBe(1)
    expect(value((c) => c.number("x", 2, 1, { min: 2, max: 2 }))).toBe(2)
    expect(value((c) => c.number("x", -5, 1, { max: 2 }))).toBe(-5)
  })
  it("rejects non-finite numbers and numbers out of range", () => {
    expect(reason((c) => c.number("x", Infinity, 1))).toBe("x: must be a finite number, got Infinity")
    expect(reason((c) => c.number("x", Number.NaN, 1))).toBe("x: must be a finite number, got NaN")
    expect(reason((c) => c.number("x", "1", 1))).toBe('x: must be a finite number, got "1"')
    expect(reason((c) => c.number("x", 1, 1, { min: 2 }))).toBe("x: must be at least 2, got 1")
    expect(reason((c) => c.number("x", 3, 1, { max: 2 }))).toBe("x: must be at most 2, got 3")
  })
  it("minExclusive: the minimum itself is rejected", () => {
    expect(reason((c) => c.number("x", 2, 3, { min: 2, minExclusive: true }))).toBe("x: must be greater than 2, got 2")
    expect(value((c) => c.number("x", 2.5, 3, { min: 2, minExclusive: true }))).toBe(2.5)
    expect(value((c) => c.number("x", 2, 3, { min: 2, minExclusive: false }))).toBe(2)
  })
})

describe("boolean, string, oneOf, func, record, fraction", () => {
  it("boolean: true or false, the fallback when undefined", () => {
    expect(value((c) => c.boolean("b", false, true))).toBe(false)
    expect(value((c) => c.boolean("b", undefined, true))).toBe(true)
    expect(reason((c) => c.boolean("b", 1, true))).toBe("b: must be true or false, got 1")
  })
  it("string: a string, non-blank when asked; an undefined fallback stays undefined", () => {
    expect(value((c) => c.string("s", "a", "b"))).toBe("a")
    expect(value((c) => c.string("s", undefined, "b"))).toBe("b")
    expect(value((c) => c.string("s", undefined, undefined))).toBeUndefined()
    expect(value((c) => c.string("s", " ", "b"))).toBe(" ")
    expect(value((c) => c.string("s", " ", "b", { nonEmpty: false }))).toBe(" ")
    expect(reason((c) => c.string("s", "  ", "b", { nonEmpty: true }))).toBe("s: must not be empty")
    expect(value((c) => c.string("s", " x ", "b", { nonEmpty: true }))).toBe(" x ")
    expect(reason((c) => c.string("s", 1, "b"))).toBe("s: must be a string, got 1")
  })
  it("oneOf: one of the values, listed when it is not", () => {
    expect(value((c) => c.oneOf("o", "fifo", "lifo", ["lifo", "fifo"]))).toBe("fifo")
    expect(value((c) => c.oneOf("o", undefined, "lifo", ["lifo", "fifo"]))).toBe("lifo")
    expect(reason((c) => c.oneOf("o", "x", "lifo", ["lifo", "fifo"]))).toBe('o: must be one of "lifo", "fifo"; got "x"')
  })
  it("func: undefined or a function", () => {
    const f = () => 1
    expect(value((c) => c.func("f", f))).toBe(f)
    expect(value((c) => c.func("f", undefined))).toBeUndefined()
    expect(reason((c) => c.func("f", 1))).toBe("f: must be a function, got 1")
  })
  it("record: undefined or a plain object, not null, an array or a primitive", () => {
    const r = { a: 1 }
    expect(value((c) => c.record("r", r))).toEqual({ a: 1 })
  })
  it("record: a copy of the own enumerable keys, each read once, null-prototype, an own __proto__ kept as a key", () => {
    let reads = 0
    const counted = Object.defineProperty({ b: 2 }, "a", { enumerable: true, get: () => ++reads })
    class Inherits {
      own = 1
      get inherited() {
        return 2
      }
    }
    const copy = value((c) => c.record("r", counted))!
    expect([copy.a, copy.a, copy.b, reads]).toEqual([1, 1, 2, 1])
    expect(Object.getPrototypeOf(copy)).toBeNull()
    expect("toString" in copy).toBe(false)
    const fromInstance = value((c) => c.record("r", new Inherits()))!
    expect([fromInstance.own, fromInstance.inherited]).toEqual([1, undefined])
    const proto = value((c) => c.record("r", JSON.parse('{"__proto__": {"max": 5}}')))!
    expect(Object.keys(proto)).toEqual(["__proto__"])
    expect(Object.getPrototypeOf(proto)).toBeNull()
  })
  it("record: refuses what is not an object", () => {
    expect(value((c) => c.record("r", undefined))).toBeUndefined()
    expect(reason((c) => c.record("r", null))).toBe("r: must be an object, got null")
    expect(reason((c) => c.record("r", [1]))).toBe("r: must be an object, got an array")
    expect(reason((c) => c.record("r", "x"))).toBe('r: must be an object, got "x"')
  })
  it("fraction: in [0, 1], or (0, 1] without zero", () => {
    expect(value((c) => c.fraction("f", 0, 0.5, true))).toBe(0)
    expect(value((c) => c.fraction("f", 1, 0.5, true))).toBe(1)
    expect(value((c) => c.fraction("f", 1, 0.5, false))).toBe(1)
    expect(value((c) => c.fraction("f", undefined, 0.5, false))).toBe(0.5)
    expect(reason((c) => c.fraction("f", 0, 0.5, false))).toBe("f: must be in (0, 1], got 0")
    expect(reason((c) => c.fraction("f", -0.1, 0.5, true))).toBe("f: must be in [0, 1], got -0.1")
    expect(reason((c) => c.fraction("f", 1.1, 0.5, true))).toBe("f: must be in [0, 1], got 1.1")
    expect(reason((c) => c.fraction("f", 1.1, 0.5, false))).toBe("f: must be in (0, 1], got 1.1")
    expect(reason((c) => c.fraction("f", "1", 0.5, true))).toBe('f: must be in [0, 1], got "1"')
  })
  it("fail stops the parse with the reason given", () => {
    expect(reason((c) => c.fail("x", "because"))).toBe("x: because")
  })
})

describe("checkWith and check", () => {
  it("returns the value, or the first failed check", () => {
    expect(Options.checkWith(checker, () => 42)).toEqual({ _tag: "Valid", value: 42 })
    const invalid = Options.check(millis, (c) => {
      c.integer("a", -1, 0, { min: 0 })
      c.integer("b", -1, 0, { min: 0 })
    })
    expect(invalid).toBeInstanceOf(Options.OptionInvalid)
    expect(invalid).toMatchObject({ _tag: "Invalid", option: "a", reason: "must be at least 0, got -1" })
  })
  it("exceptions that are not failed checks propagate", () => {
    expect(() => Options.checkWith(checker, () => {
      throw new TypeError("bug")
    })).toThrow("bug")
  })
})
