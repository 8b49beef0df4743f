/**
 * A call's options checked by the engine: every hostile value named, the deadline the earlier of
 * `deadline` and `timeout`, a grpc-js `Metadata`'s `waitForReady` taken over by the pool, and a
 * `Metadata` of another copy of grpc-js (the Effect 4 root's) recognised when that copy is passed.
 */
import * as grpc from "@grpc/grpc-js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CallOptionsInput, parseCall } from "../../src/grpc/callOptions.js"
import * as Options from "../../src/options.js"
import { checker, effect4GrpcJs } from "../helpers.js"

const parse = (input: unknown, module: { Metadata: typeof grpc.Metadata } = grpc) =>
  Options.checkWith(checker, (check) => parseCall(check, input as CallOptionsInput<number>, module))

const invalid = (input: unknown): string => {
  const r = parse(input)
  return r._tag === "Invalid" ? `${r.option}: ${r.reason}` : "valid"
}

describe("parseCall", () => {
  it("names every hostile value", () => {
    expect(invalid(null)).toMatch(/^options/)
    expect(invalid({ timout: 5 })).toMatch(/^timout/)
    expect(invalid({ interceptorProviders: [] })).toMatch(/interceptor_providers/)
    expect(invalid({ metadata: { a: 1 } })).toMatch(/^metadata\["a"\]: takes a string/)
    expect(invalid({ metadata: { "a-bin": "x" } })).toMatch(/^metadata\["a-bin"\]: a -bin key takes a Buffer/)
    expect(invalid({ metadata: { "A B": "x" } })).toMatch(/^metadata\["A B"\]/)
    expect(invalid({ deadline: new Date(Number.NaN) })).toBe("deadline: must be a valid Date or ms since the epoch, got an invalid Date")
    expect(invalid({ deadline: "soon" })).toMatch(/^deadline/)
    expect(invalid({ timeout: -1 })).toMatch(/^timeout/)
    expect(invalid({ timeout: "x" })).toMatch(/^timeout/)
    expect(invalid({ waitForReady: "yes" })).toMatch(/^waitForReady/)
    expect(invalid({ compress: 1 })).toMatch(/^compress/)
    expect(invalid({ onStatus: 1 })).toMatch(/^onStatus/)
    expect(invalid({ interceptors: [1] })).toMatch(/^interceptors\[0\]/)
    expect(invalid({ interceptors: [() => {}], interceptor_providers: [() => {}] })).toMatch(/^interceptor_providers: cannot be given with interceptors/)
  })

  it("the deadline is the earlier of deadline and timeout; none past the last Date", () => {
    const before = Date.now()
    const r = parse({ deadline: before + 60_000, timeout: 1_000 })
    if (r._tag !== "Valid") throw new Error(r.reason)
    const at = (r.value.deadline as Date).getTime()
    expect(at).toBeGreaterThanOrEqual(before + 1_000)
    expect(at).toBeLessThan(before + 60_000)
    const far = parse({ deadline: 9e15 })
    expect(far._tag === "Valid" && far.value.deadline).toBe(Infinity)
    const none = parse(undefined)
    expect(none._tag === "Valid" && none.value.deadline).toBe(Infinity)
  })

  it("a Metadata with grpc-js's waitForReady: the pool's wait (the copy passed has it off)", () => {
    const metadata = new grpc.Metadata({ waitForReady: true })
    metadata.set("x-id", "1")
    const r = parse({ metadata })
    if (r._tag !== "Valid") throw new Error(r.reason)
    expect(r.value.waitForReady).toBe(true)
    expect(r.value.metadata.getOptions().waitForReady).toBe(false)
    expect(metadata.getOptions().waitForReady).toBe(true)
    expect(r.value.metadata.get("x-id")).toEqual(["1"])
  })

  it("a Metadata of another grpc-js copy is one when that copy is passed (a record of fields otherwise)", () => {
    const other: typeof grpc = effect4GrpcJs()
    expect(other.Metadata).not.toBe(grpc.Metadata)
    const metadata = new other.Metadata()
    metadata.set("x-id", "2")
    const r = parse({ metadata }, other)
    expect(r._tag === "Valid" && r.value.metadata).toBe(metadata)
    // with the engine's copy it is not a Metadata there: checked as a record, its fields refused
    expect(parse({ metadata })._tag).toBe("Invalid")
  })

  it("never throws, whatever the input", () => {
    fc.assert(fc.property(fc.anything(), fc.dictionary(fc.constantFrom("metadata", "deadline", "timeout", "waitForReady", "compress", "interceptors", "onStatus"), fc.anything()), (a, b) => {
      parse(a)
      parse(b)
    }))
  })
})
