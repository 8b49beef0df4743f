/**
 * A call's options checked by the engine: every hostile value named, the deadline the earlier of
 * `deadline` and `timeout`, a grpc-js `Metadata`'s `waitForReady` taken over by the pool, and a
 * `Metadata` of another copy of grpc-js (the Effect 4 root's) recognised when that copy is passed.
 */
import * as grpc from "@grpc/grpc-js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CallOptionsInput, guarded, knownStatus, MAX_DEADLINE_FROM_NOW_MS, messageOf, parseCall } from "../../src/grpc/callOptions.js"
// grpc-js's own encoding of a deadline (what it throws on past its limit)
import { getDeadlineTimeoutString } from "@grpc/grpc-js/build/src/deadline.js"
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

  it("says why, naming the argument", () => {
    expect(invalid({ metadata: 5 })).toBe("metadata: must be an object, got 5")
    expect(invalid({ interceptors: "x" })).toBe('interceptors: must be an array of functions, got "x"')
    expect(invalid({ interceptors: [() => {}, 1] })).toBe("interceptors[1]: must be a function, got 1")
    expect(invalid({ interceptor_providers: [1] })).toBe("interceptor_providers[0]: must be a function, got 1")
    expect(invalid({ onMetadata: 1 })).toMatch(/^onMetadata: /)
    // grpc-js's names for two of ours: pointed to ours (not a "did you mean" guess)
    expect(invalid({ interceptorProviders: [] })).toBe('interceptorProviders: is not an option here; use "interceptor_providers" instead')
    expect(invalid({ compression: false })).toBe('compression: is not an option here; use "compress" instead')
  })

  it("record metadata: each key set (the later of two spellings of one key wins), each value of an array added", () => {
    const r = parse({ metadata: { "X-Id": "1", "x-id": "2", "x-many": ["a", "b"] } })
    if (r._tag !== "Valid") throw new Error(r.reason)
    expect(r.value.metadata.get("x-id")).toEqual(["2"])
    expect(r.value.metadata.get("x-many")).toEqual(["a", "b"])
  })

  it("interceptors or providers, each alone; an empty list is none; a list is copied", () => {
    const f = () => {}
    const a = parse({ interceptors: [f] })
    expect(a._tag === "Valid" && [a.value.interceptors, a.value.providers]).toEqual([[f], undefined])
    const b = parse({ interceptor_providers: [f] })
    expect(b._tag === "Valid" && [b.value.interceptors, b.value.providers]).toEqual([undefined, [f]])
    const list = [f]
    const c = parse({ interceptors: list, interceptor_providers: [] })
    expect(c._tag === "Valid" && c.value.providers).toBe(undefined)
    expect(c._tag === "Valid" && c.value.interceptors).not.toBe(list)
    const d = parse({ interceptors: [], interceptor_providers: [f] })
    expect(d._tag === "Valid" && d.value.interceptors).toBe(undefined)
  })

  it("waitForReady and compress not given: the pool's (undefined), whatever the metadata", () => {
    for (const metadata of [undefined, { "x-id": "1" }, new grpc.Metadata(), new grpc.Metadata({ waitForReady: false })]) {
      const r = parse({ metadata, timeout: 5 })
      if (r._tag !== "Valid") throw new Error(r.reason)
      expect([r.value.waitForReady, r.value.compress]).toEqual([undefined, undefined])
    }
    const given = parse({ waitForReady: true, compress: false })
    expect(given._tag === "Valid" && [given.value.waitForReady, given.value.compress]).toEqual([true, false])
  })

  it("waitForReady and compress null: not given, the pool's (as null is an option's default everywhere else)", () => {
    const r = parse({ waitForReady: null, compress: null } as never)
    if (r._tag !== "Valid") throw new Error(r.reason)
    expect([r.value.waitForReady, r.value.compress]).toEqual([undefined, undefined])
    // a grpc-js Metadata asking to wait still counts when waitForReady is null
    const asked = parse({ waitForReady: null, metadata: new grpc.Metadata({ waitForReady: true }) } as never)
    expect(asked._tag === "Valid" && asked.value.waitForReady).toBe(true)
  })

  it("every option null: not given, as {} — no deadline (timeout: null was a deadline of now), no metadata, no callbacks, no interceptors", () => {
    const keys = ["deadline", "timeout", "metadata", "onMetadata", "onStatus", "interceptors", "interceptor_providers", "waitForReady", "compress"]
    const none = parse({})
    if (none._tag !== "Valid") throw new Error(none.reason)
    for (const key of keys) {
      const r = parse({ [key]: null })
      if (r._tag !== "Valid") throw new Error(`${key}: null: ${r.option}: ${r.reason}`)
      expect([key, r.value.deadline, r.value.interceptors, r.value.providers, r.value.onStatus, r.value.metadata.getMap()])
        .toEqual([key, none.value.deadline, none.value.interceptors, none.value.providers, none.value.onStatus, {}])
    }
  })

  it("deadline edges: -Infinity is the epoch (long past); the furthest grpc-js sends is one, a later one none", () => {
    const past = parse({ deadline: -Infinity })
    expect(past._tag === "Valid" && (past.value.deadline as Date).getTime()).toBe(0)
    // grpc-js throws "Deadline is too far in the future" (inside the call) past 10^8 hours from now
    const sendable = Date.now() + MAX_DEADLINE_FROM_NOW_MS - 60_000
    const last = parse({ deadline: sendable })
    expect(last._tag === "Valid" && (last.value.deadline as Date).getTime()).toBe(sendable)
    expect(() => getDeadlineTimeoutString(sendable)).not.toThrow()
    for (const input of [{ deadline: 8.64e15 }, { deadline: new Date(8.64e15) }, { timeout: 5e14 }, { deadline: Date.now() + MAX_DEADLINE_FROM_NOW_MS + 1 }]) {
      const r = parse(input)
      if (r._tag !== "Valid") throw new Error(r.reason)
      expect(r.value.deadline, JSON.stringify(input)).toBe(Infinity)
    }
    // the limit is grpc-js's: just past it, grpc-js throws
    expect(() => getDeadlineTimeoutString(Date.now() + 1e8 * 3_600_000)).toThrow(/too far in the future/)
  })

  it("a caller's Metadata or Date whose methods throw: INVALID_ARGUMENT naming it, never a throw", () => {
    const getMap = new grpc.Metadata()
    getMap.getMap = () => {
      throw null
    }
    expect(invalid({ metadata: getMap })).toBe("metadata: could not be read: null")
    const getOptions = new grpc.Metadata()
    getOptions.getOptions = () => {
      throw new Error("no options")
    }
    expect(invalid({ metadata: getOptions })).toBe("metadata: could not be read: no options")
    const date = new Date()
    date.getTime = () => {
      throw new Error("getTime")
    }
    expect(invalid({ deadline: date })).toBe("deadline: could not be read: getTime")
    const unprintable = new Date()
    unprintable.getTime = () => {
      throw { toString: () => { throw new Error("again") } }
    }
    expect(invalid({ deadline: unprintable })).toBe("deadline: could not be read: an object that cannot be printed")
  })

  it("HTTP/2 connection-specific headers are refused (Node's http2 never starts such a call): record or Metadata, any case", () => {
    for (const key of ["connection", "Keep-Alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"]) {
      expect(invalid({ metadata: { [key]: "x" } })).toMatch(new RegExp(`^metadata\\["${key}"\\]: is an HTTP/2 connection-specific header`))
      const metadata = new grpc.Metadata()
      metadata.set(key, "x")
      expect(invalid({ metadata })).toMatch(/connection-specific header/)
    }
    expect(invalid({ metadata: { te: "gzip" } })).toMatch(/^metadata\["te"\]: .*te only as "trailers"/)
    expect(parse({ metadata: { te: "trailers", "x-connection": "keep" } })._tag).toBe("Valid")
  })

  it("messageOf never throws: a value whose toString throws, null, undefined, a revoked Proxy", () => {
    const hostile = { toString: () => { throw new Error("no") } }
    expect(messageOf(hostile)).toBe("an object that cannot be printed")
    expect(messageOf(null)).toBe("null")
    expect(messageOf(undefined)).toBe("undefined")
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(messageOf(proxy)).toBe("a value that cannot be printed")
    const error = new Error("x")
    Object.defineProperty(error, "message", { get: () => { throw new Error("getter") } })
    expect(messageOf(error)).toBe("an object that cannot be printed")
    expect(messageOf(new Error("plain"))).toBe("plain")
  })

  it("guarded: runs the callback with its argument; what it throws is returned, never thrown", () => {
    const seen: Array<number> = []
    expect(guarded((n: number) => void seen.push(n), 7)).toBe(undefined)
    expect(seen).toEqual([7])
    expect(guarded(undefined, 7)).toBe(undefined)
    const boom = new Error("boom")
    expect(guarded(() => {
      throw boom
    }, 7)).toBe(boom)
    const nothing = guarded(() => {
      throw undefined
    }, 7)
    expect(nothing).toBeInstanceOf(Error)
    expect((nothing as Error).message).toBe("undefined thrown")
    // null is named as null (not "undefined thrown")
    const none = guarded(() => {
      throw null
    }, 7)
    expect(none).toBe(null)
    expect(messageOf(none)).toBe("null")
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

  it("knownStatus: a code gRPC defines as it is; any other UNKNOWN, naming what the server sent", () => {
    expect(knownStatus(5, "gone")).toEqual({ code: 5, details: "gone" })
    expect(knownStatus(0, "")).toEqual({ code: 0, details: "" })
    expect(knownStatus(16, "")).toEqual({ code: 16, details: "" })
    expect(knownStatus(999, "")).toEqual({ code: 2, details: "the server sent an invalid grpc-status (999)" })
    expect(knownStatus(-1, "x")).toEqual({ code: 2, details: "the server sent an invalid grpc-status (-1): x" })
    expect(knownStatus(Number.NaN, "")).toEqual({ code: 2, details: "the server sent an invalid grpc-status (not a number)" })
    expect(knownStatus(1.5, "").code).toBe(2)
  })

  it("never throws, whatever the input", () => {
    fc.assert(fc.property(fc.anything(), fc.dictionary(fc.constantFrom("metadata", "deadline", "timeout", "waitForReady", "compress", "interceptors", "onStatus"), fc.anything()), (a, b) => {
      parse(a)
      parse(b)
    }))
  })
})
