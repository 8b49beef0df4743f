/**
 * More than one server behind a target, against real grpc-js servers on 127.0.0.1: an even
 * spread over three backends, one backend killed under load (its calls move, nothing hangs, it
 * is probed back once restarted), backends added and removed at run time through a resolver
 * scheme the test controls (a drained backend's calls finish, none fails), a backend with calls
 * queued for its channels passed over for one as busy without, an ejection that ends on the
 * pool's Clock (a TestClock: back after baseEjectionTime, not before), TLS checked against the target's
 * name on every one-address channel, and every new option's hostile values.
 * Also: a call waiting on a backend a resolution replaces moves to a new one; a burst spreads over
 * backends with no channel (minChannels 0); closing over several backends takes one
 * shutdownTimeout (TestClock); a call waiting as the pool closes gets the pool's PoolClosedError.
 */
import { describe, expect, it } from "@effect/vitest"
import { PoolConfigError } from "@effect-pool/core"
import { GrpcPool } from "@effect-pool/grpc"
import { caSignedCertificate, controlledResolver, startGrpcServer, startGrpcServers } from "@effect-pool/testing"
import * as grpc from "@grpc/grpc-js"
import { Clock, Deferred, Effect, Exit, Fiber, Metric, Scope, TestClock } from "effect"
import { echoClient, eventually } from "./helpers.js"

const insecure = grpc.credentials.createInsecure()

const fleet = (n: number) => Effect.acquireRelease(Effect.promise(() => startGrpcServers(n)), (f) => Effect.promise(f.close))

/** Runs `workers` loops of unary calls until `running()` is false; counts outcomes by tag. */
const load = (pool: GrpcPool.GrpcPool, workers: number, running: () => boolean, delayMs = 2) => {
  const echo = echoClient(pool)
  const outcomes = { ok: 0, failed: new Map<string, number>() }
  const loop = Effect.gen(function*() {
    while (running()) {
      const exit = yield* Effect.exit(echo.unary({ text: "x", delayMs }))
      if (Exit.isSuccess(exit)) outcomes.ok++
      else {
        const e = exit.cause._tag === "Fail" ? (exit.cause.error as { _tag: string; code?: number }) : undefined
        const tag = e === undefined ? exit.cause._tag : `${e._tag}${e.code === undefined ? "" : `:${e.code}`}`
        outcomes.failed.set(tag, (outcomes.failed.get(tag) ?? 0) + 1)
        // a client backs off after a failure: a loop failing at once (e.g. on a closed pool) must
        // not keep the event loop from the rest of the test
        yield* Effect.sleep("1 millis")
      }
    }
  })
  return Effect.map(Effect.fork(Effect.all(Array.from({ length: workers }, () => loop), { concurrency: "unbounded", discard: true })), (fiber) => ({ fiber, outcomes }))
}

const failures = (outcomes: { failed: Map<string, number> }) => [...outcomes.failed.values()].reduce((a, b) => a + b, 0)

describe("GrpcPool with several backends", () => {
  it.live("round_robin (the default): 3000 calls over 3 servers, each within ±20 % of its share; per-backend stats", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(3)
      const pool = yield* GrpcPool.make({ target, minChannels: 3, maxChannels: 6 })
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.backends.map((b) => b.address)).toEqual(servers.map((s) => s.target))
      expect(stats.backends.every((b) => b.channels === 1 && !b.ejected && !b.draining)).toBe(true)
      const echo = echoClient(pool)
      yield* Effect.all(Array.from({ length: 3000 }, (_, i) => echo.unary({ text: `${i}` })), { concurrency: 30, discard: true })
      for (const server of servers) {
        expect(server.calls.unary).toBeGreaterThanOrEqual(800)
        expect(server.calls.unary).toBeLessThanOrEqual(1200)
      }
      const after = yield* GrpcPool.stats(pool)
      expect(after.borrows).toBeGreaterThanOrEqual(3000)
      expect(after.name).toBe("grpc")
    }).pipe(Effect.scoped), 60_000)

  it.live("pick_first: one backend, the first address (the behaviour before several backends)", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(3)
      const pool = yield* GrpcPool.make({ target, minChannels: 3, loadBalancing: "pick_first" })
      const echo = echoClient(pool)
      yield* Effect.all(Array.from({ length: 300 }, () => echo.unary({ text: "x" })), { concurrency: 10, discard: true })
      expect(servers.map((s) => s.calls.unary ?? 0)).toEqual([300, 0, 0])
      expect((yield* GrpcPool.stats(pool)).backends).toHaveLength(1)
    }).pipe(Effect.scoped), 60_000)

  it.live("one backend killed under load: its calls move, nothing hangs, it is ejected, and probed back once restarted", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(3)
      const victim = servers[1]!
      const pool = yield* GrpcPool.make({
        target,
        minChannels: 3,
        connectTimeout: "1 second",
        acquireTimeout: "5 seconds",
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "300 millis", maxEjectionTime: "1 second" },
        channelOptions: { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 200 }
      })
      let running = true
      // a failed assertion ends the test: the load stops before the pool closes
      yield* Effect.addFinalizer(() => Effect.sync(() => (running = false)))
      const { fiber, outcomes } = yield* load(pool, 12, () => running)
      yield* eventually("calls reach every backend", () => servers.every((s) => (s.calls.unary ?? 0) > 20), 10_000)
      yield* Effect.promise(victim.stop)
      const down = outcomes.ok
      const failedAtStop = failures(outcomes)
      yield* eventually("the killed backend is ejected", Effect.map(GrpcPool.stats(pool), (s) => s.backends[1]!.ejected), 10_000)
      yield* eventually("calls keep succeeding on the others", () => outcomes.ok > down + 500, 10_000)
      // what failed is only what was on the wire to the killed server as it died
      const failedWhileDown = failures(outcomes) - failedAtStop
      expect(failedWhileDown).toBeLessThanOrEqual(12)
      // UNAVAILABLE (the connection gone), CANCELLED (a stream the dying server reset), INTERNAL (cut mid-message)
      for (const tag of outcomes.failed.keys()) expect(["GrpcError:14", "GrpcError:1", "GrpcError:13"]).toContain(tag)
      yield* Effect.promise(victim.start)
      const before = victim.calls.unary ?? 0
      yield* eventually("the restarted backend gets calls again", () => (victim.calls.unary ?? 0) > before + 50, 20_000)
      yield* eventually("and is in rotation", Effect.map(GrpcPool.stats(pool), (s) => !s.backends[1]!.ejected && s.backends[1]!.channels >= 1), 10_000)
      running = false
      // nothing hangs: every loop ends
      yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
    }).pipe(Effect.scoped), 40_000)

  it.live("backends added and removed at run time (a resolver the test controls): the drained one's calls finish, none fails", () =>
    Effect.gen(function*() {
      const { servers } = yield* fleet(3)
      const [a, b, c] = servers as [typeof servers[0], typeof servers[0], typeof servers[0]]
      const resolver = controlledResolver([a.target, b.target])
      const pool = yield* GrpcPool.make({ target: resolver.target, credentials: insecure, minChannels: 2, maxChannels: 6 })
      expect((yield* GrpcPool.stats(pool)).backends.map((x) => x.address)).toEqual([a.target, b.target])
      let running = true
      // a failed assertion ends the test: the load stops before the pool closes
      yield* Effect.addFinalizer(() => Effect.sync(() => (running = false)))
      // calls long enough that some are in flight on a as it is removed
      const { fiber, outcomes } = yield* load(pool, 10, () => running, 100)
      yield* eventually("calls on a and b", () => (a.calls.unary ?? 0) > 10 && (b.calls.unary ?? 0) > 10, 10_000)
      resolver.set([b.target, c.target])
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.backends.map((x) => [x.address, x.draining])).toEqual([[b.target, false], [c.target, false], [a.target, true]])
      yield* eventually("c gets calls", () => (c.calls.unary ?? 0) > 10, 10_000)
      yield* eventually("a is gone once its calls ended", Effect.map(GrpcPool.stats(pool), (s) => s.backends.length === 2), 10_000)
      const aCalls = a.calls.unary
      yield* Effect.sleep("300 millis")
      expect(a.calls.unary).toBe(aCalls)
      // and back again
      resolver.set([a.target, b.target, c.target])
      yield* eventually("a gets calls again", () => (a.calls.unary ?? 0) > aCalls! + 10, 10_000)
      running = false
      yield* Fiber.join(fiber)
      expect(outcomes.failed).toEqual(new Map())
      expect(outcomes.ok).toBeGreaterThan(100)
    }).pipe(Effect.scoped), 60_000)

  it.live("backends added: maxChannels is divided again — the open channels never exceed it (idle surplus retired at once), under a burst either", () =>
    Effect.gen(function*() {
      const { servers } = yield* fleet(4)
      const [a, b, c, d] = servers as [typeof servers[0], typeof servers[0], typeof servers[0], typeof servers[0]]
      const resolver = controlledResolver([a.target, b.target])
      // one call per channel: a call that finds its backend's channels busy makes it open one more (up to its cap)
      const pool = yield* GrpcPool.make({ target: resolver.target, credentials: insecure, minChannels: 1, maxChannels: 4, maxConcurrentStreamsPerChannel: 1 })
      const echo = echoClient(pool)
      const burst = (n: number) => Effect.forEach(Array.from({ length: n }), () => echo.unary({ text: "x", delayMs: 300 }), { concurrency: "unbounded", discard: true })
      yield* burst(4)
      // two backends, each capped at 4 ÷ 2: 2 channels each, idle now
      expect((yield* GrpcPool.stats(pool)).backends.map((x) => x.channels)).toEqual([2, 2])
      const seen: Array<number> = []
      let sampling = true
      const sampler = yield* Effect.fork(Effect.gen(function*() {
        while (sampling) {
          seen.push((yield* GrpcPool.stats(pool)).channels.length)
          yield* Effect.sleep("5 millis")
        }
      }))
      resolver.set([a.target, b.target, c.target, d.target])
      yield* eventually("c and d connected", Effect.map(GrpcPool.stats(pool), (s) => s.backends.length === 4 && s.backends.every((x) => x.channels >= 1)), 10_000)
      // 8 calls at once over 4 backends capped at 1 each: they queue rather than open more
      yield* burst(8)
      sampling = false
      yield* Fiber.join(sampler)
      expect(seen.length).toBeGreaterThan(10)
      expect(Math.max(...seen)).toBeLessThanOrEqual(4)
      expect((yield* GrpcPool.stats(pool)).backends.map((x) => x.channels)).toEqual([1, 1, 1, 1])
      expect((c.calls.unary ?? 0) + (d.calls.unary ?? 0)).toBeGreaterThan(0)
    }).pipe(Effect.scoped), 60_000)

  it.live("a backend with calls queued for its channels gets no new call while the other is less loaded (the pick counts waiting calls); stats and gauge", () =>
    Effect.gen(function*() {
      const { servers } = yield* fleet(2)
      const [a, b] = servers as [typeof servers[0], typeof servers[0]]
      // a alone at first; one channel of one stream per backend
      const resolver = controlledResolver([a.target])
      const pool = yield* GrpcPool.make({
        target: resolver.target,
        credentials: insecure,
        name: "queued",
        minChannels: 1,
        maxChannels: 2,
        maxChannelsPerBackend: 1,
        maxConcurrentStreamsPerChannel: 1,
        acquireTimeout: "30 seconds"
      })
      const echo = echoClient(pool)
      const backend = (address: string) => Effect.map(GrpcPool.stats(pool), (s) => s.backends.find((x) => x.address === address))
      const release = yield* Deferred.make<void>()
      // a channel held until released (a call in flight that the test ends)
      const hold = Effect.fork(Effect.scoped(Effect.zipRight(GrpcPool.channel(pool), Deferred.await(release))))
      const calls = (n: number) => Effect.fork(Effect.all(Array.from({ length: n }, () => echo.unary({ text: "q" })), { concurrency: "unbounded", discard: true }))
      const holders = [yield* hold]
      yield* eventually("a's stream taken", Effect.map(backend(a.target), (x) => x?.activeCalls === 1))
      const queuedOnA = yield* calls(3)
      yield* eventually("3 calls wait for a's channel", Effect.map(backend(a.target), (x) => x?.waitingCalls === 3))
      // b added and its stream taken too: both at their stream limit, a with 3 calls queued, b none
      resolver.set([a.target, b.target])
      yield* eventually("b connected", Effect.map(backend(b.target), (x) => x?.channels === 1))
      holders.push(yield* hold)
      yield* eventually("b's stream taken", Effect.map(backend(b.target), (x) => x?.activeCalls === 1))
      // two new calls: both to b (1 + 0, then 1 + 1, against a's 1 + 3); counting active calls
      // only, a and b tie at 1 per channel and round-robin queues one of them behind a's three
      const onB = yield* calls(2)
      yield* eventually("5 calls wait", Effect.map(GrpcPool.stats(pool), (s) => s.waiting === 5))
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.backends.map((x) => [x.address, x.activeCalls, x.waitingCalls])).toEqual([[a.target, 1, 3], [b.target, 1, 2]])
      const pairs = yield* Metric.snapshot
      const gauge = (address: string) =>
        (pairs.find((p) =>
          p.metricKey.name === "effect_pool_grpc_backend_waiting_calls" &&
          p.metricKey.tags.some((t) => t.key === "pool" && t.value === "queued") &&
          p.metricKey.tags.some((t) => t.key === "backend" && t.value === address)
        )?.metricState as { value?: number } | undefined)?.value
      expect([gauge(a.target), gauge(b.target)]).toEqual([3, 2])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(queuedOnA)
      yield* Fiber.join(onB)
      for (const holder of holders) yield* Fiber.join(holder)
      expect([a.calls.unary, b.calls.unary]).toEqual([3, 2])
      expect((yield* GrpcPool.stats(pool)).backends.map((x) => x.waitingCalls)).toEqual([0, 0])
    }).pipe(Effect.scoped), 30_000)

  it.live("a resolution replacing the only backend: a call waiting for its channel moves to the new one (not PoolClosedError)", () =>
    Effect.gen(function*() {
      const { servers } = yield* fleet(2)
      const [a, c] = servers as [typeof servers[0], typeof servers[0]]
      const resolver = controlledResolver([a.target])
      const pool = yield* GrpcPool.make({ target: resolver.target, credentials: insecure, minChannels: 1, maxChannels: 1, maxConcurrentStreamsPerChannel: 1, acquireTimeout: "30 seconds" })
      const release = yield* Deferred.make<void>()
      // a's only stream held: the call waits for it
      const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(GrpcPool.channel(pool), Deferred.await(release))))
      yield* eventually("a's stream taken", Effect.map(GrpcPool.stats(pool), (s) => s.backends[0]?.activeCalls === 1))
      const waiter = yield* Effect.fork(echoClient(pool).unary({ text: "w" }))
      yield* eventually("the call waits", Effect.map(GrpcPool.stats(pool), (s) => s.backends[0]?.waitingCalls === 1))
      resolver.set([c.target])
      expect((yield* Fiber.join(waiter)).text).toBe("echo: w")
      expect([a.calls.unary ?? 0, c.calls.unary]).toEqual([0, 1])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
    }).pipe(Effect.scoped), 30_000)

  it.live("minChannels 0: a burst finds one backend warm and two with no channel — it spreads over all three (their first channels open)", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(3)
      const pool = yield* GrpcPool.make({ target, minChannels: 0, maxChannels: 3, maxConcurrentStreamsPerChannel: 1, acquireTimeout: "30 seconds" })
      const echo = echoClient(pool)
      yield* echo.unary({ text: "warm" })
      expect((yield* GrpcPool.stats(pool)).backends.map((b) => b.channels).sort()).toEqual([0, 0, 1])
      yield* Effect.forEach(Array.from({ length: 9 }), () => echo.unary({ text: "x", delayMs: 200 }), { concurrency: "unbounded", discard: true })
      // 3 each (the warm-up one more): not 9 queued on the warm one
      expect(servers.map((s) => s.calls.unary ?? 0).sort()).toEqual([3, 3, 4])
      expect((yield* GrpcPool.stats(pool)).backends.map((b) => b.channels)).toEqual([1, 1, 1])
    }).pipe(Effect.scoped), 30_000)

  it.effect("close: every backend's calls in flight get shutdownTimeout at once, not one backend after another (TestClock)", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(3)
      const scope = yield* Scope.make()
      const pool = yield* Scope.extend(GrpcPool.make({ target, minChannels: 3, maxChannels: 3, shutdownTimeout: "10 seconds" }), scope)
      const echo = echoClient(pool)
      // a call that does not end by itself on every backend
      const calls = yield* Effect.forEach(servers, () => Effect.fork(echo.unary({ text: "long", delayMs: 60_000 })))
      yield* eventually("a call on every server", () => servers.every((s) => s.calls.unary === 1))
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      // every backend's core pool closing (in turn: only the first)
      yield* eventually("closing", Effect.map(GrpcPool.stats(pool), (s) => s.closed))
      yield* TestClock.adjust("9999 millis")
      expect(servers.map((s) => s.cancelled.unary ?? 0)).toEqual([0, 0, 0])
      yield* TestClock.adjust("1 millis")
      // one shutdownTimeout: every call cut, the close done
      yield* eventually("every call cut at once", () => servers.every((s) => s.cancelled.unary === 1))
      yield* eventually("closed", Effect.map(closing.poll, (exit) => exit._tag === "Some"))
      for (const call of calls) expect(Exit.isFailure(yield* Fiber.await(call))).toBe(true)
    }).pipe(Effect.scoped), 30_000)

  it.live("a call waiting as the pool closes fails with PoolClosedError naming the pool, not a backend's core pool (grpc/address)", () =>
    Effect.gen(function*() {
      const { target } = yield* fleet(2)
      const scope = yield* Scope.make()
      const pool = yield* Scope.extend(GrpcPool.make({ target, minChannels: 2, maxChannels: 2, maxConcurrentStreamsPerChannel: 1, shutdownTimeout: "100 millis" }), scope)
      const release = yield* Deferred.make<void>()
      const holders = [yield* Effect.fork(Effect.scoped(Effect.zipRight(GrpcPool.channel(pool), Deferred.await(release)))), yield* Effect.fork(Effect.scoped(Effect.zipRight(GrpcPool.channel(pool), Deferred.await(release))))]
      yield* eventually("every stream taken", Effect.map(GrpcPool.stats(pool), (s) => s.backends.every((b) => b.activeCalls === 1)))
      const waiter = yield* Effect.fork(echoClient(pool).unary({ text: "w" }))
      yield* eventually("the call waits", Effect.map(GrpcPool.stats(pool), (s) => s.backends.some((b) => b.waitingCalls === 1)))
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(waiter))
      expect(error).toMatchObject({ _tag: "PoolClosedError", pool: "grpc" })
      yield* Deferred.succeed(release, undefined)
      for (const holder of holders) yield* Fiber.await(holder)
    }).pipe(Effect.scoped), 30_000)

  it.effect("an ejection ends on the pool's Clock: under a TestClock the backend is back after baseEjectionTime by TestClock.adjust, not before", () =>
    Effect.gen(function*() {
      const { servers, target } = yield* fleet(2)
      const pool = yield* GrpcPool.make({
        target,
        minChannels: 2,
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "10 seconds", failureCodes: [grpc.status.INTERNAL] }
      })
      const echo = echoClient(pool)
      // failing calls alternate over the two backends: the first to fail twice is ejected (the
      // other may not be: 2 of 2 is past maxEjectionPercent 50)
      for (let i = 0; i < 4; i++) yield* Effect.exit(echo.unary({ text: "fail", code: grpc.status.INTERNAL }))
      const ejected = (yield* GrpcPool.stats(pool)).backends.filter((b) => b.ejected)
      expect(ejected).toHaveLength(1)
      const address = ejected[0]!.address
      const server = servers.find((x) => x.target === address)!
      const other = servers.find((x) => x.target !== address)!
      // until the Clock's now + 10 s: the TestClock's time, not the wall clock's
      expect(ejected[0]!.ejectedUntil).toBe((yield* Clock.currentTimeMillis) + 10_000)
      const isEjected = Effect.map(GrpcPool.stats(pool), (s) => s.backends.find((b) => b.address === address)!.ejected)
      yield* TestClock.adjust("9999 millis")
      expect(yield* isEjected).toBe(true)
      // while ejected every call goes to the other backend
      const before = [server.calls.unary, other.calls.unary] as const
      yield* Effect.all(Array.from({ length: 4 }, () => echo.unary({ text: "ok" })), { discard: true })
      expect([server.calls.unary, other.calls.unary]).toEqual([before[0], before[1]! + 4])
      yield* TestClock.adjust("1 millis")
      yield* eventually("back in rotation at baseEjectionTime", Effect.map(isEjected, (x) => !x), 2_000)
      // and picked again
      yield* Effect.all(Array.from({ length: 4 }, () => echo.unary({ text: "ok" })), { discard: true })
      expect(server.calls.unary).toBeGreaterThan(before[0]!)
    }).pipe(Effect.scoped), 30_000)

  it.live("TLS: each one-address channel verifies the certificate against the target's name (localhost), never the address", () =>
    Effect.gen(function*() {
      const good = caSignedCertificate(["DNS:localhost"])
      const wrong = caSignedCertificate(["DNS:other.test"])
      const serve = (cert: typeof good) =>
        Effect.acquireRelease(
          Effect.promise(() => startGrpcServer({ credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(cert.key), cert_chain: Buffer.from(cert.cert) }]) })),
          (s) => Effect.promise(s.close)
        )
      const server = yield* serve(good)
      const pool = yield* GrpcPool.make({ target: `localhost:${server.port}`, credentials: grpc.credentials.createSsl(Buffer.from(good.ca)) })
      const reply = yield* echoClient(pool).unary({ text: "tls" })
      expect(reply.text).toBe("echo: tls")
      const backends = (yield* GrpcPool.stats(pool)).backends
      expect(backends.map((x) => x.address)).toEqual([`127.0.0.1:${server.port}`])
      // a certificate for another name is refused exactly as on the whole target
      const other = yield* serve(wrong)
      const refused = yield* GrpcPool.make({ target: `localhost:${other.port}`, credentials: grpc.credentials.createSsl(Buffer.from(wrong.ca)), connectTimeout: "1 second", acquireTimeout: "2 seconds" })
      const exit = yield* Effect.exit(echoClient(refused).unary({ text: "tls" }, { timeout: "2 seconds" }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(other.calls.unary ?? 0).toBe(0)
    }).pipe(Effect.scoped), 60_000)

  it.effect("hostile values of every new option fail make with PoolConfigError naming it", () =>
    Effect.gen(function*() {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ loadBalancing: "least_request" }, "loadBalancing"],
        [{ loadBalancing: 1 }, "loadBalancing"],
        [{ lbPolicy: "round_robin" }, "lbPolicy"],
        [{ minChannelsPerBackend: -1 }, "minChannelsPerBackend"],
        [{ minChannelsPerBackend: NaN }, "minChannelsPerBackend"],
        [{ minChannelsPerBackend: 1.5 }, "minChannelsPerBackend"],
        [{ minChannelsPerBackend: 3, maxChannelsPerBackend: 2 }, "minChannelsPerBackend"],
        [{ maxChannelsPerBackend: 0 }, "maxChannelsPerBackend"],
        [{ maxChannelsPerBackend: Infinity }, "maxChannelsPerBackend"],
        [{ maxChannelsPerBackend: 5, maxChannels: 4 }, "maxChannelsPerBackend"],
        [{ maxChannelsPerBackend: "2" }, "maxChannelsPerBackend"],
        [{ channelsPerBackend: 2 }, "channelsPerBackend"],
        [{ outlierDetection: true }, "outlierDetection"],
        [{ outlierDetection: "on" }, "outlierDetection"],
        [{ outlierDetection: { consecutiveFailures: 0 } }, "outlierDetection.consecutiveFailures"],
        [{ outlierDetection: { consecutiveFailures: Infinity } }, "outlierDetection.consecutiveFailures"],
        [{ outlierDetection: { consecutiveFailures: NaN } }, "outlierDetection.consecutiveFailures"],
        [{ outlierDetection: { baseEjectionTime: 0 } }, "outlierDetection.baseEjectionTime"],
        [{ outlierDetection: { baseEjectionTime: "forever" } }, "outlierDetection.baseEjectionTime"],
        [{ outlierDetection: { baseEjectionTime: "30 days" } }, "outlierDetection.baseEjectionTime"],
        [{ outlierDetection: { maxEjectionTime: Infinity } }, "outlierDetection.maxEjectionTime"],
        [{ outlierDetection: { maxEjectionTime: -5 } }, "outlierDetection.maxEjectionTime"],
        [{ outlierDetection: { maxEjectionPercent: 150 } }, "outlierDetection.maxEjectionPercent"],
        [{ outlierDetection: { maxEjectionPercent: NaN } }, "outlierDetection.maxEjectionPercent"],
        [{ outlierDetection: { failureCodes: "UNAVAILABLE" } }, "outlierDetection.failureCodes"],
        [{ outlierDetection: { failureCodes: [0] } }, "outlierDetection.failureCodes"],
        [{ outlierDetection: { failureCodes: [99] } }, "outlierDetection.failureCodes"],
        [{ outlierDetection: { interval: "10 seconds" } }, "outlierDetection.interval"],
        [{ outlierDetection: { consecutive5xx: 3 } }, "outlierDetection.consecutive5xx"]
      ]
      for (const [options, option] of cases) {
        const exit = yield* Effect.exit(Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", credentials: insecure, ...options } as any)))
        const label = JSON.stringify(options)
        if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error(`${label}: expected a PoolConfigError`)
        expect(exit.cause.error, label).toBeInstanceOf(PoolConfigError)
        expect(exit.cause.error.option, label).toBe(option)
      }
    }))

  it.live("the new options' edge values that mean something are accepted", () =>
    Effect.gen(function*() {
      for (const options of [
        { outlierDetection: false as const },
        { outlierDetection: { maxEjectionPercent: 0 } },
        { outlierDetection: { maxEjectionPercent: 100, baseEjectionTime: "24 days" as const, maxEjectionTime: 1 } },
        { minChannelsPerBackend: 0, maxChannelsPerBackend: 1 },
        { loadBalancing: "pick_first" as const }
      ]) {
        yield* Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", credentials: insecure, minChannels: 0, connectTimeout: "100 millis", ...options }))
      }
    }), 30_000)
})
