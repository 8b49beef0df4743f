/** The worker pool's `atomics` option (piscina's values) and piscina 4's `useAtomics`, one parser for both editions. */
import { describe, expect, it } from "vitest"
import * as Options from "../../src/options.js"
import { type AtomicsMode, atomicsInEnvironment, parkingOf, parseAtomics, parseRunOptions } from "../../src/worker/options.js"

const checker = Options.makeChecker<number>({ decode: (input) => (typeof input === "number" ? input : undefined) })
const parse = (atomics: unknown, useAtomics?: unknown, environment?: Record<string, unknown>): string => {
  const result = Options.checkWith(checker, (check) => parseAtomics(check, atomics, useAtomics, environment))
  return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : result.value
}

describe("atomics", () => {
  it("piscina's values; the default parks; only sync parks", () => {
    expect(parse(undefined)).toBe("sync")
    expect(parse("sync")).toBe("sync")
    expect(parse("async")).toBe("async")
    expect(parse("disabled")).toBe("disabled")
    expect((["sync", "async", "disabled"] as Array<AtomicsMode>).map(parkingOf)).toEqual([true, false, false])
  })
  it("piscina 4's useAtomics: true is sync, false is disabled; agreeing with atomics is fine", () => {
    expect(parse(undefined, true)).toBe("sync")
    expect(parse(undefined, false)).toBe("disabled")
    expect(parse("sync", true)).toBe("sync")
    expect(parse("disabled", false)).toBe("disabled")
    expect(parse("async", false)).toBe("async")
    // null is an absent option (as for every option and piscina's atomics)
    expect(parse(null, null)).toBe("sync")
    expect(parse(null, false)).toBe("disabled")
  })
  it("hostile values name the option", () => {
    for (const bad of ["Sync", "", "none", true, false, 0, 1, Number.NaN, Infinity, {}, [], () => "sync", Symbol("sync")]) {
      expect(parse(bad)).toMatch(/^atomics: must be one of "sync", "async", "disabled"/)
    }
    for (const bad of ["false", "true", 0, 1, Number.NaN, {}]) {
      expect(parse(undefined, bad)).toMatch(/^useAtomics: must be true or false/)
    }
    expect(parse("disabled", true)).toMatch(/^useAtomics: .*disagrees/)
    expect(parse("sync", false)).toMatch(/^useAtomics: .*disagrees/)
  })
  it("piscina's PISCINA_DISABLE_ATOMICS=1 disables every mode; PISCINA_ENABLE_ASYNC_ATOMICS=1 turns sync into async", () => {
    const off = { PISCINA_DISABLE_ATOMICS: "1" }
    expect(parse(undefined, undefined, off)).toBe("disabled")
    expect(parse("sync", undefined, off)).toBe("disabled")
    expect(parse("async", undefined, off)).toBe("disabled")
    expect(parse(undefined, true, off)).toBe("disabled")
    expect(parse(undefined, undefined, { PISCINA_DISABLE_ATOMICS: 1 })).toBe("disabled") // a thread's env makes it "1"
    expect(parse(undefined, undefined, { PISCINA_ENABLE_ASYNC_ATOMICS: "1" })).toBe("async")
    expect(parse("disabled", undefined, { PISCINA_ENABLE_ASYNC_ATOMICS: "1" })).toBe("disabled")
    expect(parse(undefined, undefined, { PISCINA_ENABLE_ASYNC_ATOMICS: "1", PISCINA_DISABLE_ATOMICS: "1" })).toBe("disabled")
    // only "1" is on (piscina compares with '1')
    for (const value of ["0", "true", "yes", "", " 1", "01", true, 2, undefined, null, {}]) {
      expect(atomicsInEnvironment("sync", { PISCINA_DISABLE_ATOMICS: value, PISCINA_ENABLE_ASYNC_ATOMICS: value })).toBe("sync")
    }
    expect(atomicsInEnvironment("sync", undefined)).toBe("sync")
    expect(atomicsInEnvironment("sync", {})).toBe("sync")
    // an inherited key is no environment variable
    expect(atomicsInEnvironment("sync", Object.create(off))).toBe("sync")
    // the options are still checked first
    expect(parse("Sync", undefined, off)).toMatch(/^atomics: must be one of/)
    expect(parse("sync", false, off)).toMatch(/^useAtomics: .*disagrees/)
  })
})

describe("run options", () => {
  const run = (options: unknown, poolTimeout = 500): unknown => {
    const result = Options.checkWith(checker, (check) => parseRunOptions(check, options, poolTimeout))
    return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : result.value
  }
  it("none, or every option null: not given — the pool's timeout, its export, nothing transferred", () => {
    const none = { name: undefined, timeout: 500, transfer: undefined }
    expect(run(undefined)).toEqual(none)
    expect(run(null)).toEqual(none)
    expect(run({})).toEqual(none)
    expect(run({ name: null, timeout: null, transfer: null })).toEqual(none)
  })
  it("timeout: a duration > 0; Infinity and \"Infinity\" are none; a tiny positive one is one", () => {
    expect(run({ timeout: 20 })).toMatchObject({ timeout: 20 })
    expect(run({ timeout: Infinity })).toMatchObject({ timeout: Infinity })
    expect(run({ timeout: "Infinity" })).toMatchObject({ timeout: Infinity })
    expect(run({ timeout: 1e-9 })).toMatchObject({ timeout: 1e-9 })
    expect(run({ timeout: 0 })).toBe("timeout: must be greater than 0")
    expect(run({ timeout: -1 })).toBe("timeout: must be a non-negative duration, got -1")
  })
  it("bad options name themselves", () => {
    expect(run({ name: "" })).toBe('name: must be the name of an export, got ""')
    expect(run({ transfer: 1 })).toBe("transfer: must be an array of transferable objects, got 1")
    expect(run({ signal: 1 })).toMatch(/^signal: is not a run option/)
    expect(run({ other: null })).toBe("other: is not a run option (transfer, name, timeout)")
    expect(run([])).toBe("options: must be an object, got an array")
    expect(run(() => 1)).toBe("options: must be an object, got a function")
  })
})
