/**
 * The gRPC router's decisions, with fake ports (backends are plain objects whose load and waits
 * the test sets; a manual clock and timer list): resolution to open/drain, sizing, the pick, the
 * wait that moves off a backend that cannot connect, cancel wherever the wait has moved, the
 * ejection timer, close — examples and fast-check properties.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as B from "../../src/grpc/backends.js"
import { type BackendSizing, Router, type RouterPorts } from "../../src/grpc/router.js"
import * as Options from "../../src/options.js"
import { checker } from "../helpers.js"

const options = (input: B.BackendOptionsInput<number> = {}, pool = { minChannels: 1, maxChannels: 4 }): B.BackendOptions => {
  const r = Options.checkWith(checker, (check) => B.parseBackendOptions(check, input, pool))
  if (r._tag === "Invalid") throw new Error(`${r.option} ${r.reason}`)
  return r.value
}

type Done = (lease: string | undefined, failure: string | undefined) => void

/** A fake backend: its load, the waits for it (answered by the test), its drain. */
class Fake {
  load = (): B.Load => ({ channels: this.channels, activeCalls: this.calls, waitingCalls: this.waits.size + this.queued })
  channels = 1
  calls = 0
  /** Calls waiting for it besides the waits the router made here. */
  queued = 0
  /** Answer at once with this lease (or failure) instead of waiting. */
  answer: { lease?: string; failure?: string } | undefined = undefined
  readonly waits = new Set<Done>()
  cancels = 0
  closed: (() => void) | undefined = undefined
  resizes = 0
  constructor(readonly address: string, readonly target: string, public sizing: BackendSizing) {}
  /** Answers every wait. */
  settle(lease: string | undefined, failure: string | undefined): void {
    for (const done of [...this.waits]) {
      this.waits.delete(done)
      done(lease, failure)
    }
  }
}

const harness = (input: B.BackendOptionsInput<number> = {}, pool = { minChannels: 1, maxChannels: 4 }, fake: { readonly drainFails?: boolean } = {}) => {
  let now = 0
  const timers = new Map<number, { at: number; f: () => void }>()
  let nextTimer = 0
  const opened: Array<Fake> = []
  const ejected: Array<string> = []
  const ports: RouterPorts<Fake, string, string, string> = {
    open: (address, target, sizing) => {
      const fake = new Fake(address, target, sizing)
      opened.push(fake)
      return fake
    },
    resize: (backend, sizing) => {
      backend.sizing = sizing
      backend.resizes++
    },
    drain: (backend, closed) => {
      backend.closed = closed
      // as a core pool's close: its waiters fail at once, inside the drain
      if (fake.drainFails === true) backend.settle(undefined, "closed")
    },
    lend: (backend, _request, done) => {
      if (backend.answer !== undefined) {
        done(backend.answer.lease, backend.answer.failure)
        return () => {}
      }
      backend.waits.add(done)
      return () => {
        if (backend.waits.delete(done)) backend.cancels++
      }
    },
    movable: (failure) => failure === "UNAVAILABLE" || failure === "closed",
    closedFailure: () => "pool closed",
    setTimer: (ms, f) => {
      const id = nextTimer++
      timers.set(id, { at: now + ms, f })
      return id
    },
    clearTimer: (id) => {
      timers.delete(id as number)
    },
    now: () => now,
    ejected: (address) => ejected.push(address)
  }
  const router = new Router("p", "dns:///svc:1", options(input, pool), ports)
  const advance = (ms: number) => {
    now += ms
    for (const [id, t] of [...timers]) {
      if (t.at <= now) {
        timers.delete(id)
        t.f()
      }
    }
  }
  const at = (address: string) => router.live.get(address)!
  return { router, opened, ejected, timers, advance, at }
}

const lend = (router: Router<Fake, string, string, string>) => {
  const results: Array<[string | undefined, string | undefined]> = []
  const cancel = router.lend("call", (lease, failure) => results.push([lease, failure]))
  return { results, cancel }
}

describe("Router: resolution", () => {
  it("opens each address once on its ipv4: target, drains the gone ones, removes them once closed", () => {
    const { router, opened } = harness()
    let first = 0
    router.firstResolution = () => first++
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    expect(first).toBe(1)
    expect(opened.map((o) => o.target)).toEqual(["ipv4:10.0.0.1:1", "ipv4:10.0.0.2:1"])
    expect(router.single).toBeUndefined()
    router.resolved(["10.0.0.2:1"])
    expect([...router.live.keys()]).toEqual(["10.0.0.2:1"])
    expect(router.single).toBe(opened[1])
    expect([...router.draining]).toEqual([opened[0]])
    expect(router.backendStats().map((s) => [s.address, s.draining])).toEqual([["10.0.0.2:1", false], ["10.0.0.1:1", true]])
    opened[0]!.closed!()
    expect(router.draining.size).toBe(0)
    expect(router.set.backends.map((b) => b.address)).toEqual(["10.0.0.2:1"])
    expect(opened.length).toBe(2)
  })

  it("an address back and gone again while its first backend drains: the first one's close keeps the second's entry", () => {
    const { router, opened } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    router.resolved(["10.0.0.2:1"])
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    router.resolved(["10.0.0.2:1"])
    opened[0]!.closed!()
    expect(router.backendStats().map((s) => [s.address, s.draining])).toEqual([["10.0.0.2:1", false], ["10.0.0.1:1", true]])
    opened[2]!.closed!()
    expect(router.backendStats().map((s) => s.address)).toEqual(["10.0.0.2:1"])
  })

  it("an address back while its old backend still drains gets a new backend; the old one's close leaves the new alone", () => {
    const { router, opened } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    router.resolved(["10.0.0.2:1"])
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    expect(opened.length).toBe(3)
    expect(router.live.get("10.0.0.1:1")).toBe(opened[2])
    opened[0]!.closed!()
    expect(router.set.backends.map((b) => [b.address, b.draining])).toEqual([["10.0.0.1:1", false], ["10.0.0.2:1", false]])
  })

  it("sizing: at least one channel each while minChannels ≥ 1, the max divided among the live backends, names pool/address for several", () => {
    const { router, opened } = harness({}, { minChannels: 1, maxChannels: 6 })
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    expect(opened.map((o) => o.sizing)).toEqual([
      { min: 1, max: 2, name: "p/10.0.0.1:1" },
      { min: 1, max: 2, name: "p/10.0.0.2:1" },
      { min: 1, max: 2, name: "p/10.0.0.3:1" }
    ])
    const one = harness({}, { minChannels: 0, maxChannels: 6 })
    one.router.resolved(["10.0.0.1:1"])
    expect(one.opened[0]!.sizing).toEqual({ min: 0, max: 6, name: "p" })
  })

  it("backends added: every backend's max is divided again (the pool's total stays within maxChannels); removed: the share comes back", () => {
    const { router, opened } = harness({}, { minChannels: 1, maxChannels: 6 })
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    expect(opened.map((o) => o.sizing.max)).toEqual([3, 3])
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    expect(opened.map((o) => o.sizing.max)).toEqual([2, 2, 2])
    // names stay what the core pools were made with
    expect(opened.map((o) => o.sizing.name)).toEqual(["p/10.0.0.1:1", "p/10.0.0.2:1", "p/10.0.0.3:1"])
    expect(opened.map((o) => o.resizes)).toEqual([1, 1, 0])
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    expect(opened.map((o) => o.resizes)).toEqual([1, 1, 0])
    router.resolved(["10.0.0.3:1"])
    expect(router.sizingOf(opened[2]!)).toEqual({ min: 1, max: 6, name: "p/10.0.0.3:1" })
    expect(router.sizingOf(opened[0]!)).toBeUndefined()
    expect(opened[0]!.resizes).toBe(1)
  })

  it("whole: one backend, the target itself, under the pool's name", () => {
    const { router, opened } = harness({}, { minChannels: 2, maxChannels: 4 })
    router.whole()
    expect(opened.map((o) => [o.address, o.target, o.sizing])).toEqual([["dns:///svc:1", "dns:///svc:1", { min: 2, max: 4, name: "p" }]])
    expect(router.single).toBe(opened[0])
  })

  it("after close nothing opens and a wait fails with the closed failure", () => {
    const { router, opened } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    let watchClosed = 0
    router.watch = { refresh: () => {}, close: () => watchClosed++ }
    router.close()
    router.resolved(["10.0.0.3:1"])
    expect(opened.length).toBe(2)
    expect(watchClosed).toBe(1)
  })
})

describe("Router: lend", () => {
  it("the least loaded backend; ties round-robin", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    for (const b of router.live.values()) b.answer = { lease: b.address }
    const picks = Array.from({ length: 6 }, () => lend(router).results[0]![0])
    expect(picks).toEqual(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    at("10.0.0.1:1").calls = 1
    at("10.0.0.2:1").calls = 3
    at("10.0.0.3:1").calls = 2
    expect(lend(router).results[0]![0]).toBe("10.0.0.1:1")
  })

  it("calls waiting for a backend's channels count as its load: a backend with a queue gets no new call while another is less loaded", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    const a = at("10.0.0.1:1")
    const b = at("10.0.0.2:1")
    // both at their stream limit (one call on one channel each), a with 3 calls queued
    a.calls = 1
    b.calls = 1
    a.queued = 3
    // the router's own waits count too: b takes the next 3 (1 + 1, 1 + 2, 1 + 3 against 1 + 3)
    const first = Array.from({ length: 3 }, () => lend(router))
    expect(b.waits.size).toBe(3)
    expect(a.waits.size).toBe(0)
    expect(router.backendStats().map((s) => s.waitingCalls)).toEqual([3, 3])
    // even now: ties round-robin
    lend(router)
    lend(router)
    expect([a.waits.size, b.waits.size]).toEqual([1, 4])
    for (const w of first) w.cancel()
    expect(router.backendStats().map((s) => s.waitingCalls)).toEqual([4, 1])
  })

  it("a wait whose backend cannot connect moves to the next backend; one that fails otherwise does not", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    const moved = lend(router)
    at("10.0.0.1:1").settle(undefined, "UNAVAILABLE")
    expect(moved.results).toEqual([])
    expect(at("10.0.0.2:1").waits.size).toBe(1)
    at("10.0.0.2:1").settle("lease", undefined)
    expect(moved.results).toEqual([["lease", undefined]])

    const stays = lend(router)
    const first = [...router.live.values()].find((b) => b.waits.size === 1)!
    first.settle(undefined, "DEADLINE_EXCEEDED")
    expect(stays.results).toEqual([[undefined, "DEADLINE_EXCEEDED"]])
  })

  it("every backend tried: the last failure is the call's", () => {
    const { router } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    for (const b of router.live.values()) b.answer = { failure: "UNAVAILABLE" }
    expect(lend(router).results).toEqual([[undefined, "UNAVAILABLE"]])
  })

  it("cancel gives up the wait where it has moved to, and no move follows a cancel", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    const w = lend(router)
    at("10.0.0.1:1").settle(undefined, "UNAVAILABLE")
    expect(at("10.0.0.2:1").waits.size).toBe(1)
    w.cancel()
    expect(at("10.0.0.2:1").cancels).toBe(1)
    expect(at("10.0.0.1:1").cancels).toBe(0)
    expect(w.results).toEqual([])

    // a failure that races the cancel (already on its way) is not moved to a third backend
    const { router: r2, at: at2 } = harness()
    r2.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    const results: Array<unknown> = []
    let cancel = () => {}
    const b1 = at2("10.0.0.1:1")
    cancel = r2.lend("call", (lease, failure) => results.push([lease, failure]))
    const done = [...b1.waits][0]!
    cancel()
    done(undefined, "UNAVAILABLE")
    expect(at2("10.0.0.2:1").waits.size).toBe(0)
    expect(results).toEqual([[undefined, "UNAVAILABLE"]])
  })

  it("a wait on a draining backend that closes moves to a live one", () => {
    const { router, at, opened } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    const w = lend(router)
    router.resolved(["10.0.0.2:1", "10.0.0.3:1"])
    opened[0]!.settle(undefined, "closed")
    expect(at("10.0.0.2:1").waits.size + at("10.0.0.3:1").waits.size).toBe(1)
    expect(w.results).toEqual([])
  })

  it("a resolution replacing the backends: a wait on a drained one (failed inside the drain) moves to a new one, never the closed failure", () => {
    for (const [before, after] of [[["10.0.0.1:1"], ["10.0.0.3:1"]], [["10.0.0.1:1", "10.0.0.2:1"], ["10.0.0.3:1", "10.0.0.4:1"]], [["10.0.0.1:1", "10.0.0.2:1"], ["10.0.0.2:1", "10.0.0.3:1"]]]) {
      const { router, at } = harness({}, { minChannels: 1, maxChannels: 4 }, { drainFails: true })
      router.resolved(before!)
      // every backend before is busy: the waits are on them, whichever the pick chose
      const waits = before!.map(() => lend(router))
      for (const address of before!) expect(at(address).waits.size).toBe(1)
      router.resolved(after!)
      for (const w of waits) expect(w.results).toEqual([])
      expect(after!.reduce((n, address) => n + at(address).waits.size, 0)).toBe(before!.length)
      for (const address of after!) at(address).settle("lease", undefined)
      for (const w of waits) expect(w.results).toEqual([["lease", undefined]])
    }
  })

  it("one backend: the wait is its own (no move, no pick)", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1"])
    const w = lend(router)
    at("10.0.0.1:1").settle(undefined, "UNAVAILABLE")
    expect(w.results).toEqual([[undefined, "UNAVAILABLE"]])
  })

  it("closed: the closed failure, nothing borrowed", () => {
    const { router } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    router.close()
    // the live backends stay until their scopes close; the router still picks them
    router.live.clear()
    expect(lend(router).results).toEqual([[undefined, "pool closed"]])
  })
})

describe("Router: outlier detection", () => {
  const od = { outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 1_000, maxEjectionTime: 10_000, maxEjectionPercent: 50 } }

  it("consecutive failures eject, a timer brings the backend back at the ejection's end; close clears the timer", () => {
    const { router, at, ejected, advance, timers } = harness(od)
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    const b1 = at("10.0.0.1:1")
    router.callEnded(b1, B.UNAVAILABLE)
    expect(ejected).toEqual([])
    router.connectionFailed(b1)
    expect(ejected).toEqual(["10.0.0.1:1"])
    expect(router.timerArmed).toBe(true)
    expect(router.backendStats()[0]!.ejected).toBe(true)
    for (const b of router.live.values()) b.answer = { lease: b.address }
    expect(lend(router).results[0]![0]).toBe("10.0.0.2:1")
    advance(999)
    expect(router.backendStats()[0]!.ejected).toBe(true)
    advance(1)
    expect(router.backendStats()[0]!.ejected).toBe(false)
    expect(router.timerArmed).toBe(false)
    router.callEnded(b1, B.UNAVAILABLE) // on probation: ejected again at once, for longer
    expect(router.backendStats()[0]!.ejectedUntil).toBe(3_000)
    router.close()
    expect(timers.size).toBe(0)
  })

  it("nothing counts with one backend, with outlier detection off, or for a drained backend", () => {
    const one = harness(od)
    one.router.resolved(["10.0.0.1:1"])
    for (let i = 0; i < 5; i++) one.router.callEnded(one.at("10.0.0.1:1"), B.UNAVAILABLE)
    expect(one.ejected).toEqual([])
    const off = harness({ outlierDetection: false })
    off.router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    for (let i = 0; i < 5; i++) off.router.callEnded(off.at("10.0.0.1:1"), B.UNAVAILABLE)
    expect(off.ejected).toEqual([])
    const gone = harness(od)
    gone.router.resolved(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"])
    const b1 = gone.at("10.0.0.1:1")
    gone.router.resolved(["10.0.0.2:1", "10.0.0.3:1"])
    for (let i = 0; i < 5; i++) gone.router.callEnded(b1, B.UNAVAILABLE)
    expect(gone.ejected).toEqual([])
  })

  it("a connection failure asks the resolver again", () => {
    const { router, at } = harness()
    router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
    let refreshed = 0
    router.watch = { refresh: () => refreshed++, close: () => {} }
    router.connectionFailed(at("10.0.0.1:1"))
    expect(refreshed).toBe(1)
  })
})

describe("Router: properties", () => {
  const address = fc.integer({ min: 1, max: 6 }).map((i) => `10.0.0.${i}:1`)
  const op = fc.oneof(
    fc.record({ _tag: fc.constant("resolve" as const), addresses: fc.array(address, { maxLength: 5 }) }),
    fc.record({ _tag: fc.constant("closeOne" as const), index: fc.nat() }),
    fc.record({ _tag: fc.constant("lend" as const), fail: fc.boolean() }),
    fc.record({ _tag: fc.constant("fail" as const), index: fc.nat(), code: fc.constantFrom(0, B.UNAVAILABLE, 4) }),
    fc.record({ _tag: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 5_000 }) })
  )

  it("live backends are the set's non-draining ones, draining ones its draining ones; every wait answered once; each open once per address at a time", () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const { router, opened, advance } = harness({ outlierDetection: { consecutiveFailures: 1, baseEjectionTime: 100 } }, { minChannels: 2, maxChannels: 8 })
      const answered: Array<number> = []
      let waits = 0
      for (const o of ops) {
        if (o._tag === "resolve") router.resolved(o.addresses)
        else if (o._tag === "closeOne") {
          const draining = [...router.draining]
          draining[o.index % Math.max(1, draining.length)]?.closed?.()
        } else if (o._tag === "lend") {
          if (router.live.size === 0) continue
          for (const b of router.live.values()) b.answer = o.fail ? { failure: "UNAVAILABLE" } : { lease: b.address }
          const n = waits++
          answered[n] = 0
          router.lend("call", () => answered[n]!++)
        } else if (o._tag === "fail") {
          const live = [...router.live.values()]
          if (live.length > 0) router.callEnded(live[o.index % live.length], o.code)
        } else advance(o.ms)
        const live = router.set.backends.filter((b) => !b.draining).map((b) => b.address).sort()
        expect([...router.live.keys()].sort()).toEqual(live)
        // every backend open is in the set (its stats shown), draining unless its address is live again
        for (const b of router.draining) expect(router.set.backends.some((s) => s.address === b.address && (s.draining || router.live.has(b.address)))).toBe(true)
        expect(router.single === undefined || router.live.size === 1).toBe(true)
        let total = 0
        for (const b of router.live.values()) {
          expect(b.sizing.min).toBeLessThanOrEqual(b.sizing.max)
          expect(b.sizing.max).toBeGreaterThanOrEqual(1)
          expect(router.sizingOf(b)).toBe(b.sizing)
          total += b.sizing.max
        }
        // the live backends' caps add up to maxChannels at most (one channel each past that)
        expect(total).toBeLessThanOrEqual(Math.max(8, router.live.size))
        // no two backends open at once for one address
        const openNow = [...router.live.values()].map((b) => b.address)
        expect(new Set(openNow).size).toBe(openNow.length)
      }
      expect(answered.every((n) => n === 1)).toBe(true)
      expect(opened.length).toBeGreaterThanOrEqual(router.live.size)
    }))
  })
})
