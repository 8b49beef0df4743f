/**
 * The gRPC backend set: option checks, resolution (open/drain/undrain), ejection with backoff and
 * the ejection cap, probation, the pick (least loaded, round-robin ties, never none because all
 * are ejected), channel spread — examples and fast-check properties.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as B from "../../src/grpc/backends.js"
import * as Options from "../../src/options.js"
import { checker } from "../helpers.js"

const parse = (input: unknown, pool = { minChannels: 1, maxChannels: 4 }) =>
  Options.checkWith(checker, (check) => B.parseBackendOptions(check, input as B.BackendOptionsInput<number>, pool))

const options = (input: B.BackendOptionsInput<number> = {}, pool = { minChannels: 1, maxChannels: 4 }): B.BackendOptions => {
  const r = parse(input, pool)
  if (r._tag === "Invalid") throw new Error(`${r.option} ${r.reason}`)
  return r.value
}

const set = (addresses: ReadonlyArray<string>, input?: B.BackendOptionsInput<number>, pool?: { minChannels: number; maxChannels: number }) =>
  B.resolved(B.make(options(input, pool)), addresses).state

const idle = (): B.Load => ({ channels: 1, activeCalls: 0, waitingCalls: 0 })

const fail = (state: B.BackendSet, address: string, times: number, now = 0) => {
  let s = state
  const commands: Array<B.Command> = []
  for (let i = 0; i < times; i++) {
    const step = B.callEnded(s, address, B.UNAVAILABLE, now)
    s = step.state
    commands.push(...step.commands)
  }
  return { state: s, commands }
}

describe("parseBackendOptions", () => {
  it("defaults: round_robin, 0 per backend minimum, maxChannels per backend, outlier detection on (5, 30 s, 300 s, 50 %, UNAVAILABLE)", () => {
    expect(options()).toEqual({
      loadBalancing: "round_robin",
      minChannels: 1,
      maxChannels: 4,
      minChannelsPerBackend: 0,
      maxChannelsPerBackend: 4,
      outlierDetection: { consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 50, failureCodes: [14] }
    })
    expect(options({ outlierDetection: false }).outlierDetection).toBeUndefined()
  })

  it.each([
    [{ loadBalancing: "least_request" }, "loadBalancing", /must be one of "round_robin", "pick_first"/],
    [{ loadBalancing: 1 }, "loadBalancing", /must be one of/],
    [{ maxChannelsPerBackend: 0 }, "maxChannelsPerBackend", /at least 1/],
    [{ maxChannelsPerBackend: 5 }, "maxChannelsPerBackend", /must not exceed maxChannels \(4\)/],
    [{ maxChannelsPerBackend: 1.5 }, "maxChannelsPerBackend", /whole number/],
    [{ maxChannelsPerBackend: Number.NaN }, "maxChannelsPerBackend", /must be a number/],
    [{ maxChannelsPerBackend: Infinity }, "maxChannelsPerBackend", /finite/],
    [{ minChannelsPerBackend: -1 }, "minChannelsPerBackend", /at least 0/],
    [{ minChannelsPerBackend: "2" }, "minChannelsPerBackend", /must be a number/],
    [{ minChannelsPerBackend: 3, maxChannelsPerBackend: 2 }, "minChannelsPerBackend", /must not exceed maxChannelsPerBackend \(2\)/],
    [{ outlierDetection: true }, "outlierDetection", /must be an object or false, got true/],
    [{ outlierDetection: [] }, "outlierDetection", /must be an object or false/],
    [{ outlierDetection: null }, "outlierDetection", /must be an object or false/],
    [{ outlierDetection: { consecutive5xx: 3 } }, "outlierDetection.consecutive5xx", /use "outlierDetection.consecutiveFailures"/],
    [{ outlierDetection: { consecutiveFailure: 3 } }, "outlierDetection.consecutiveFailure", /did you mean "outlierDetection.consecutiveFailures"/],
    [{ outlierDetection: { consecutiveFailures: 0 } }, "outlierDetection.consecutiveFailures", /at least 1/],
    [{ outlierDetection: { consecutiveFailures: Infinity } }, "outlierDetection.consecutiveFailures", /finite/],
    [{ outlierDetection: { baseEjectionTime: 0 } }, "outlierDetection.baseEjectionTime", /greater than 0/],
    [{ outlierDetection: { baseEjectionTime: Infinity } }, "outlierDetection.baseEjectionTime", /finite/],
    [{ outlierDetection: { baseEjectionTime: -1 } }, "outlierDetection.baseEjectionTime", /non-negative/],
    [{ outlierDetection: { maxEjectionTime: 2 ** 31 } }, "outlierDetection.maxEjectionTime", /at most/],
    [{ outlierDetection: { maxEjectionTime: Number.NaN } }, "outlierDetection.maxEjectionTime", /NaN/],
    [{ outlierDetection: { maxEjectionPercent: 101 } }, "outlierDetection.maxEjectionPercent", /at most 100/],
    [{ outlierDetection: { maxEjectionPercent: -1 } }, "outlierDetection.maxEjectionPercent", /at least 0/],
    [{ outlierDetection: { maxEjectionPercent: Number.NaN } }, "outlierDetection.maxEjectionPercent", /finite number/],
    [{ outlierDetection: { failureCodes: 14 } }, "outlierDetection.failureCodes", /must be an array/],
    [{ outlierDetection: { failureCodes: [0] } }, "outlierDetection.failureCodes", /1–16/],
    [{ outlierDetection: { failureCodes: [17] } }, "outlierDetection.failureCodes", /1–16/],
    [{ outlierDetection: { failureCodes: ["UNAVAILABLE"] } }, "outlierDetection.failureCodes", /got "UNAVAILABLE"/]
  ])("%j → %s", (input, option, reason) => {
    const r = parse(input)
    expect(r._tag).toBe("Invalid")
    if (r._tag === "Invalid") {
      expect(r.option).toBe(option)
      expect(r.reason).toMatch(reason)
    }
  })
})

describe("resolved", () => {
  it("new addresses open, gone ones drain, a draining one back is undrained; duplicates once; empty keeps", () => {
    let s = B.make(options())
    const a = B.resolved(s, ["a:1", "b:1", "a:1"])
    expect(a.commands).toEqual([{ _tag: "Open", address: "a:1" }, { _tag: "Open", address: "b:1" }])
    s = a.state
    const b = B.resolved(s, ["b:1", "c:1"])
    expect(b.commands).toEqual([{ _tag: "Drain", address: "a:1" }, { _tag: "Open", address: "c:1" }])
    expect(b.state.backends.map((x) => [x.address, x.draining])).toEqual([["b:1", false], ["c:1", false], ["a:1", true]])
    expect(B.resolved(b.state, []).state).toBe(b.state)
    const c = B.resolved(b.state, ["a:1", "b:1", "c:1"])
    expect(c.commands).toEqual([{ _tag: "Undrain", address: "a:1" }])
    const d = B.removed(b.state, "a:1")
    expect(d.backends.map((x) => x.address)).toEqual(["b:1", "c:1"])
    expect(B.removed(d, "b:1")).toBe(d) // only a draining one leaves
  })

  it("pick_first: one backend, the first address", () => {
    const s = set(["a:1", "b:1"], { loadBalancing: "pick_first" })
    expect(s.backends.map((b) => b.address)).toEqual(["a:1"])
    expect(B.resolved(s, ["b:1", "a:1"]).commands).toEqual([{ _tag: "Drain", address: "a:1" }, { _tag: "Open", address: "b:1" }])
  })
})

describe("ejection", () => {
  const three = () => set(["a:1", "b:1", "c:1"], { outlierDetection: { consecutiveFailures: 3, baseEjectionTime: 1000, maxEjectionTime: 2500, maxEjectionPercent: 50 } })

  it("the n-th consecutive failure ejects for base × ejections capped at max; a success in between resets the count", () => {
    let s = three()
    s = fail(s, "a:1", 2).state
    s = B.callEnded(s, "a:1", 0, 0).state
    expect(s.backends[0]!.consecutiveFailures).toBe(0)
    const first = fail(s, "a:1", 3, 100)
    expect(first.commands).toEqual([{ _tag: "Eject", address: "a:1", until: 1100 }])
    expect(B.nextTick(first.state)).toBe(1100)
    expect(B.tick(first.state, 1099).commands).toEqual([])
    const back = B.tick(first.state, 1100)
    expect(back.commands).toEqual([{ _tag: "Unejected", address: "a:1" }])
    // probation: one failure ejects again, longer (2 × 1000)
    const second = B.callEnded(back.state, "a:1", B.UNAVAILABLE, 2000)
    expect(second.commands).toEqual([{ _tag: "Eject", address: "a:1", until: 4000 }])
    const third = B.callEnded(B.tick(second.state, 4000).state, "a:1", B.UNAVAILABLE, 5000)
    expect(third.commands).toEqual([{ _tag: "Eject", address: "a:1", until: 7500 }]) // capped at 2500
    // a success on probation clears the ejection count
    const healed = B.callEnded(B.tick(third.state, 7500).state, "a:1", 0, 8000).state
    expect(healed.backends[0]).toMatchObject({ ejections: 0, probation: false, ejectedUntil: undefined })
    expect(fail(healed, "a:1", 3, 9000).commands).toEqual([{ _tag: "Eject", address: "a:1", until: 10_000 }])
  })

  it("codes not in failureCodes are successes for it; off: never ejects", () => {
    let s = three()
    for (let i = 0; i < 10; i++) s = B.callEnded(s, "a:1", 5, 0).state // NOT_FOUND
    expect(s.backends[0]!.consecutiveFailures).toBe(0)
    const off = set(["a:1", "b:1"], { outlierDetection: false })
    expect(fail(off, "a:1", 100).commands).toEqual([])
  })

  it("never more than maxEjectionPercent of the backends; one backend is never ejected at 50 %", () => {
    let s = three()
    s = fail(s, "a:1", 3).state
    const b = fail(s, "b:1", 3)
    expect(b.commands).toEqual([]) // 2 of 3 would be 67 %
    expect(B.inRotation(b.state).map((x) => x.address)).toEqual(["b:1", "c:1"])
    expect(fail(set(["a:1"]), "a:1", 100).commands).toEqual([])
    const all = set(["a:1", "b:1"], { outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 } })
    const both = fail(fail(all, "a:1", 1, 10).state, "b:1", 1, 20).state
    // every backend ejected: the one ejected longest ago
    expect(B.pick(both, idle).address).toBe("a:1")
  })
})

describe("pick", () => {
  it("least active calls per channel; ties round-robin; skips draining and ejected", () => {
    let s = set(["a:1", "b:1", "c:1"])
    const seen: Array<string | undefined> = []
    for (let i = 0; i < 6; i++) {
      const p = B.pick(s, idle)
      seen.push(p.address)
      s = p.state
    }
    expect(seen).toEqual(["a:1", "b:1", "c:1", "a:1", "b:1", "c:1"])
    const load = (a: string): B.Load => (a === "a:1" ? { channels: 2, activeCalls: 2, waitingCalls: 0 } : a === "b:1" ? { channels: 1, activeCalls: 3, waitingCalls: 0 } : { channels: 1, activeCalls: 1, waitingCalls: 0 })
    expect(B.pick(s, load).address).toBe("a:1") // 1 per channel, ties with c:1, cursor at a
    const drained = B.resolved(s, ["b:1", "c:1"]).state
    expect(B.pick(drained, () => ({ channels: 1, activeCalls: 0, waitingCalls: 0 })).address).not.toBe("a:1")
    expect(B.pick(B.resolved(set(["a:1"]), ["a:1"]).state, idle).address).toBe("a:1")
    // no channel in rotation (its connections just lost): after every backend with a free stream
    const lost = (a: string): B.Load => (a === "a:1" ? { channels: 0, activeCalls: 0, waitingCalls: 0 } : { channels: 1, activeCalls: 50, waitingCalls: 0, capacity: 100 })
    let t = set(["a:1", "b:1"])
    for (let i = 0; i < 4; i++) {
      const p = B.pick(t, lost)
      expect(p.address).toBe("b:1")
      t = p.state
    }
    expect(B.pick(t, () => ({ channels: 0, activeCalls: 0, waitingCalls: 0 })).address).toBeDefined()
  })

  it("calls waiting for a channel count: (active + waiting) per channel; a backend whose calls wait after one with no channel and no queue", () => {
    const s = set(["a:1", "b:1"])
    // both at their stream limit, a with 3 calls queued: b (the cursor is at a, the tie would be a's)
    const queued = (a: string): B.Load => (a === "a:1" ? { channels: 1, activeCalls: 1, waitingCalls: 3 } : { channels: 1, activeCalls: 1, waitingCalls: 0 })
    expect(B.pick(s, queued).address).toBe("b:1")
    // per channel: a's 2 + 4 over 3 channels (2) beats b's 3 + 0 over 1 at its stream limit
    const spread = (a: string): B.Load => (a === "a:1" ? { channels: 3, activeCalls: 2, waitingCalls: 4 } : { channels: 1, activeCalls: 3, waitingCalls: 0, capacity: 3 })
    expect(B.pick(s, spread).address).toBe("a:1")
    // no channel on either (both connecting): the shorter queue
    const connecting = (a: string): B.Load => ({ channels: 0, activeCalls: 0, waitingCalls: a === "a:1" ? 5 : 2 })
    expect(B.pick(s, connecting).address).toBe("b:1")
    // a backend whose calls wait comes after one with no channel and no queue (its first channel opens)
    const long = (a: string): B.Load => (a === "a:1" ? { channels: 0, activeCalls: 0, waitingCalls: 0 } : { channels: 1, activeCalls: 8, waitingCalls: 1 })
    expect(B.pick(s, long).address).toBe("a:1")
  })

  it("three ranks: a warm backend with a free stream, then one with no channel and no queue, then one whose next call waits", () => {
    const s = set(["a:1", "b:1", "c:1"])
    const warm: B.Load = { channels: 1, activeCalls: 99, waitingCalls: 0, capacity: 100 }
    const cold: B.Load = { channels: 0, activeCalls: 0, waitingCalls: 0 }
    const full: B.Load = { channels: 1, activeCalls: 1, waitingCalls: 0, capacity: 1 }
    const queued: B.Load = { channels: 3, activeCalls: 0, waitingCalls: 1 }
    const connecting: B.Load = { channels: 0, activeCalls: 0, waitingCalls: 1 }
    const loads = (x: B.Load, y: B.Load, z: B.Load) => (a: string) => (a === "a:1" ? x : a === "b:1" ? y : z)
    // an idle warm backend before a new channel, however busy it is, as long as a stream is free
    expect(B.pick(s, loads(full, cold, warm)).address).toBe("c:1")
    // its streams all taken (capacity known) or calls queued: the backend with no channel (the cursor is at a)
    expect(B.pick(s, loads(full, queued, cold)).address).toBe("c:1")
    expect(B.pick(s, loads(queued, connecting, cold)).address).toBe("c:1")
    // capacity unknown: full only with a queue
    expect(B.pick(s, loads({ channels: 1, activeCalls: 5, waitingCalls: 0 }, cold, cold)).address).toBe("a:1")
    // every backend's calls wait: the fewest calls per channel (per one, for a backend still connecting)
    expect(B.pick(s, loads({ channels: 1, activeCalls: 1, waitingCalls: 2 }, { channels: 0, activeCalls: 0, waitingCalls: 2 }, full)).address).toBe("c:1")
    expect(B.pick(s, loads({ channels: 1, activeCalls: 1, waitingCalls: 2 }, connecting, full)).address).toBe("b:1")
  })

  it("a burst over one warm backend and two with no channel (minChannels 0, one stream per channel) spreads over all three", () => {
    // the shell's load: each call taken by a backend is active on a free stream, or waits
    const streams = 1
    const state = new Map<string, { channels: number; calls: number }>([["a:1", { channels: 1, calls: 0 }], ["b:1", { channels: 0, calls: 0 }], ["c:1", { channels: 0, calls: 0 }]])
    const load = (address: string): B.Load => {
      const b = state.get(address)!
      const active = Math.min(b.calls, b.channels * streams)
      return { channels: b.channels, activeCalls: active, waitingCalls: b.calls - active, capacity: b.channels * streams }
    }
    let s = set(["a:1", "b:1", "c:1"])
    for (let i = 0; i < 9; i++) {
      const p = B.pick(s, load)
      s = p.state
      state.get(p.address!)!.calls++
    }
    expect([...state.values()].map((b) => b.calls)).toEqual([3, 3, 3])
  })

  it("property: the pick is a backend in rotation of the best rank, with the least (active + waiting) per channel in it", () => {
    const load = fc.record({ channels: fc.nat(4), activeCalls: fc.nat(20), waitingCalls: fc.nat(20) })
    fc.assert(fc.property(fc.array(load, { minLength: 2, maxLength: 6 }), fc.nat(10), (loads, skip) => {
      let s = set(loads.map((_, i) => `h${i}:1`))
      // move the cursor: ties may go anywhere, the score may not
      for (let i = 0; i < skip; i++) s = B.pick(s, idle).state
      const of = (address: string) => loads[Number(address.slice(1, address.indexOf(":")))]!
      const score = (l: B.Load) =>
        l.waitingCalls === 0 && l.channels > 0 ? l.activeCalls / l.channels : l.channels === 0 && l.waitingCalls === 0 ? 1e12 + l.activeCalls : 2e12 + (l.activeCalls + l.waitingCalls) / Math.max(1, l.channels)
      const picked = B.pick(s, of).address!
      return loads.every((l) => score(of(picked)) <= score(l))
    }))
  })

  it("property: over any sequence, equal loads get within one pick of each other", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 200 }), (n, calls) => {
      let s = set(Array.from({ length: n }, (_, i) => `h${i}:1`))
      const counts = new Map<string, number>()
      for (let i = 0; i < calls; i++) {
        const p = B.pick(s, idle)
        counts.set(p.address!, (counts.get(p.address!) ?? 0) + 1)
        s = p.state
      }
      const values = [...counts.values()]
      return Math.max(...values) - (values.length < n ? 0 : Math.min(...values)) <= 1
    }))
  })

  it("property: never undefined while a backend is live, whatever failed; never a draining one", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("fail" as const), i: fc.nat(5), code: fc.constantFrom(0, 14) }),
      fc.record({ kind: fc.constant("resolve" as const), keep: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }) }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.nat(100_000) })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 100 }), (ops, percent) => {
      const all = ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1"]
      let s = set(all, { outlierDetection: { consecutiveFailures: 1, baseEjectionTime: 1000, maxEjectionPercent: percent } })
      let now = 0
      for (const o of ops) {
        if (o.kind === "fail") s = B.callEnded(s, all[o.i]!, o.code, now).state
        else if (o.kind === "resolve") s = B.resolved(s, all.filter((_, i) => o.keep[i])).state
        else s = B.tick(s, (now += o.ms)).state
        const liveCount = s.backends.filter((b) => !b.draining).length
        const ejected = s.backends.filter((b) => !b.draining && b.ejectedUntil !== undefined).length
        // the cap holds at every ejection (a resolution may shrink the live set under it)
        const p = B.pick(s, idle)
        if (liveCount > 0 && p.address === undefined) return false
        if (p.address !== undefined && s.backends.find((b) => b.address === p.address)!.draining) return false
        if (o.kind === "fail" && o.code === 14 && ejected > 0 && percent === 0) return false
      }
      return true
    }))
  })
})

describe("channels", () => {
  it("minimums: minChannels spread round-robin on top of minChannelsPerBackend, capped per backend and in all", () => {
    expect([...B.minimums(set(["a", "b", "c"], {}, { minChannels: 4, maxChannels: 8 })).values()]).toEqual([2, 1, 1])
    expect([...B.minimums(set(["a", "b", "c"], { minChannelsPerBackend: 2 }, { minChannels: 4, maxChannels: 8 })).values()]).toEqual([2, 2, 2])
    expect([...B.minimums(set(["a", "b", "c"], { minChannelsPerBackend: 3 }, { minChannels: 0, maxChannels: 7 })).values()]).toEqual([3, 3, 1])
    expect([...B.minimums(set(["a", "b"], { maxChannelsPerBackend: 1 }, { minChannels: 4, maxChannels: 4 })).values()]).toEqual([1, 1])
  })
})

describe("stats and targets", () => {
  it("backendStats: the documented shape", () => {
    const s = fail(set(["a:1", "b:1"], { outlierDetection: { consecutiveFailures: 1 } }), "a:1", 1, 5).state
    expect(B.backendStats(s, () => ({ channels: 2, activeCalls: 1, waitingCalls: 3 }))).toEqual([
      { address: "a:1", channels: 2, activeCalls: 1, waitingCalls: 3, ejected: true, ejectedUntil: 30_005, consecutiveFailures: 0, draining: false },
      { address: "b:1", channels: 2, activeCalls: 1, waitingCalls: 3, ejected: false, consecutiveFailures: 0, draining: false }
    ])
  })

  it("addressTarget", () => {
    expect(B.addressTarget("127.0.0.1:50051")).toBe("ipv4:127.0.0.1:50051")
    expect(B.addressTarget("[::1]:50051")).toBe("ipv6:[::1]:50051")
    expect(B.addressTarget("/tmp/sock")).toBe("unix:/tmp/sock")
  })
})
