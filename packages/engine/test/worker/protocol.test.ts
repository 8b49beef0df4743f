/** The worker message protocol: how errors cross a thread, what counts as an Effect. Plain vitest, no runtime. */
import { describe, expect, it } from "vitest"
import { deserializeError, HandlerTypeId, isCloneable, isEffect, serializeError } from "../../src/worker/protocol.js"

describe("serializeError / deserializeError", () => {
  it("keeps an Error's name, message, stack and own fields", () => {
    const original = Object.assign(new RangeError("too big"), { code: "E_BIG", limit: 7 })
    const serialized = structuredClone(serializeError(original))
    expect(serialized).toMatchObject({ name: "RangeError", message: "too big", fields: { code: "E_BIG", limit: 7 } })
    const back = deserializeError(serialized)
    expect(back).toBeInstanceOf(Error)
    expect(back.name).toBe("RangeError")
    expect(back.message).toBe("too big")
    expect(back.stack).toBe(original.stack)
    expect((back as Error & { code: string }).code).toBe("E_BIG")
    // name is not an own enumerable field (as on a real Error)
    expect(Object.keys(back)).not.toContain("name")
  })

  it("turns fields that cannot be cloned into strings", () => {
    const serialized = serializeError(Object.assign(new Error("x"), { f: () => 1, ok: [1, 2] }))
    expect(serialized.fields.f).toBe("[cannot be cloned: a function]")
    expect(serialized.fields.ok).toEqual([1, 2])
    expect(() => structuredClone(serialized)).not.toThrow()
  })

  it("a plain object (an Effect failure) keeps its fields and is named by its _tag", () => {
    const serialized = serializeError({ _tag: "NotFound", id: 3 })
    expect(serialized.name).toBe("NotFound")
    expect(serialized.fields).toEqual({ _tag: "NotFound", id: 3 })
    expect(JSON.parse(serialized.message)).toEqual({ _tag: "NotFound", id: 3 })
    expect(serializeError({ id: 3 }).name).toBe("Error")
  })

  it("a plain object with a BigInt or a cycle keeps its _tag and every field; a field that cannot be sent is named", () => {
    const cyclic: Record<string, unknown> = { _tag: "Cyclic", n: 1n }
    cyclic.self = cyclic
    const serialized = structuredClone(serializeError(cyclic))
    expect(serialized.name).toBe("Cyclic")
    expect(serialized.fields._tag).toBe("Cyclic")
    expect(serialized.fields.n).toBe(1n)
    expect((serialized.fields.self as Record<string, unknown>).self).toBe(serialized.fields.self)
    // the message is the fields' JSON: the copy's self is the original, whose own self is the cycle
    expect(JSON.parse(serialized.message)).toEqual({ _tag: "Cyclic", n: "1n", self: { _tag: "Cyclic", n: "1n", self: "[Circular]" } })
    const mixed = serializeError({ _tag: "Mixed", f: () => 1, s: Symbol("s"), get boom(): number { throw new Error("getter") }, ok: 2n })
    expect(mixed.fields).toEqual({ _tag: "Mixed", f: "[cannot be cloned: a function]", s: "[cannot be cloned: Symbol(s)]", boom: "[cannot be read: \"Error: getter\"]", ok: 2n })
    expect(() => structuredClone(mixed)).not.toThrow()
    // an Error's fields alike: a throwing getter no longer loses the rest
    const error = Object.defineProperty(Object.assign(new Error("x"), { code: "E" }), "bad", { enumerable: true, get: () => { throw null } })
    expect(serializeError(error)).toMatchObject({ message: "x", fields: { code: "E", bad: "[cannot be read: null]" } })
  })

  it("an object with a message but no Error prototype is read as an error", () => {
    expect(serializeError({ message: "m", name: "Custom", extra: 1 })).toMatchObject({ name: "Custom", message: "m", fields: { extra: 1 } })
    expect(serializeError({ message: 5, name: 6 }).name).toBe("Error")
  })

  it("anything else becomes its string", () => {
    expect(serializeError("boom")).toEqual({ name: "Error", message: "boom", stack: undefined, fields: {} })
    expect(serializeError(42).message).toBe("42")
    expect(serializeError(undefined).message).toBe("undefined")
    expect(serializeError(null).message).toBe("null")
  })
})

describe("isCloneable / isEffect", () => {
  it("isCloneable follows structured clone", () => {
    expect(isCloneable({ a: [1, new Date(0)] })).toBe(true)
    expect(isCloneable(() => 1)).toBe(false)
    expect(isCloneable(Symbol("s"))).toBe(false)
  })

  it("recognises an Effect of either major by its mark, nothing else", () => {
    expect(isEffect({ [Symbol.for("effect/Effect")]: {} })).toBe(true)
    expect(isEffect({ "~effect/Effect": {} })).toBe(true)
    expect(isEffect(Promise.resolve(1))).toBe(false)
    expect(isEffect(null)).toBe(false)
    expect(isEffect("~effect/Effect")).toBe(false)
  })

  it("the handler mark is the one both editions' WorkerPool.handler set", () => {
    expect(HandlerTypeId).toBe(Symbol.for("@effect-pool/worker/Handler"))
  })
})
