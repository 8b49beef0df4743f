/**
 * Faults against a real grpc-js server: restarts under load, connections that die silently,
 * health NOT_SERVING, maxAge refresh under load, close with calls in flight. The pool heals
 * without the caller's code doing anything, loses no call it did not report, and leaks no
 * connection (counted at the proxy in front of the server).
 */
import { describe, expect, it } from "@effect/vitest"
import { PoolClosedError } from "@effect-pool/core"
import { GrpcPool } from "@effect-pool/grpc"
import * as grpc from "@grpc/grpc-js"
import * as http2 from "node:http2"
import { Cause, Effect, Exit, Fiber, Schedule, Scope, Option, Stream } from "effect"
import { causeText, Echo, echoClient, eventually, serverBehindProxy } from "./helpers.js"

/** A server whose unary method answers with two messages, then OK (the Echo path, served as a stream). */
const twoResponses = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = new grpc.Server()
    const unary = Object.values(Echo.service).find((method) => method.path.endsWith("/Unary"))!
    const definition = { Unary: { ...unary, responseStream: true } } as grpc.ServiceDefinition
    server.addService(definition, {
      Unary: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        call.write({ text: "one" })
        call.write({ text: "two" })
        call.end()
      }
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))))
    return { server, target: `127.0.0.1:${port}` }
  }),
  ({ server }) => Effect.sync(() => server.forceShutdown())
)

/** A bare HTTP/2 server that ends every call with the grpc-status its x-status header asks for. */
const badStatusServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = http2.createServer()
    server.on("stream", (stream, headers) => {
      stream.on("error", () => {})
      stream.on("data", () => {})
      stream.on("end", () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true })
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(headers["x-status"]) }))
        stream.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return { server, target: `127.0.0.1:${(server.address() as { port: number }).port}` }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

describe("GrpcPool faults", () => {
  it.live("a grpc-status gRPC does not define (999, -1, abc): GrpcError UNKNOWN naming what the server sent, every call kind", () =>
    Effect.gen(function*() {
      const { target } = yield* badStatusServer
      const pool = yield* GrpcPool.make({ target, credentials: grpc.credentials.createInsecure(), maxChannels: 1 })
      const echo = echoClient(pool)
      for (const [sent, named] of [["999", "999"], ["-1", "-1"], ["abc", "not a number"]]) {
        const options = { metadata: { "x-status": sent } }
        const kinds: Record<string, Effect.Effect<unknown, unknown>> = {
          unary: echo.unary({ text: "x" }, options),
          serverStream: Stream.runDrain(echo.serverStream({ text: "x", n: 1 }, options)),
          clientStream: echo.clientStream(Stream.make({ text: "x" }), options),
          bidi: Stream.runDrain(echo.bidi(Stream.make({ text: "x" }), options))
        }
        for (const [kind, call] of Object.entries(kinds)) {
          const error = yield* Effect.flip(call.pipe(Effect.timeout("5 seconds")))
          expect(error, `${kind}, ${sent}`).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNKNOWN })
          expect((error as { details: string }).details, `${kind}, ${sent}`).toContain(`invalid grpc-status (${named})`)
        }
      }
    }).pipe(Effect.scoped))

  it.live("a unary call answered with two messages fails UNIMPLEMENTED \"Too many responses received\" (as grpc-js's Client), never hangs", () =>
    Effect.gen(function*() {
      const { target } = yield* twoResponses
      const pool = yield* GrpcPool.make({ target, credentials: grpc.credentials.createInsecure(), maxChannels: 1 })
      const echo = echoClient(pool)
      for (const options of [undefined, { interceptors: [(o: grpc.InterceptorOptions, next: grpc.NextCall) => new grpc.InterceptingCall(next(o))] }]) {
        const error = yield* Effect.flip(echo.unary({ text: "x" }, options).pipe(Effect.timeout("5 seconds")))
        expect(error, options === undefined ? "channel-level" : "intercepted").toMatchObject({ _tag: "GrpcError", code: grpc.status.UNIMPLEMENTED, details: "Too many responses received" })
      }
      yield* eventually("the slot back", Effect.map(GrpcPool.stats(pool), (s) => s.pool.borrowed === 0 && s.channels.every((c) => c.activeCalls === 0)))
    }).pipe(Effect.scoped))

  it.live("server stopped and restarted on its port under load: typed failures while down, healed after, no socket leaked", () =>
    Effect.gen(function*() {
      const { server, proxy, target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 2, maxChannels: 4, maxConcurrentStreamsPerChannel: 5, connectTimeout: "500 millis", acquireTimeout: "1 second" })
      const echo = echoClient(pool)
      const outcomes = { ok: 0, failed: new Map<string, number>() }
      let running = true
      const load = Effect.gen(function*() {
        while (running) {
          const exit = yield* Effect.exit(echo.unary({ text: "x", delayMs: 5 }))
          if (Exit.isSuccess(exit)) outcomes.ok++
          else {
            const error = Cause.findErrorOption(exit.cause)
            const tag = Option.isSome(error) ? (error.value as { _tag: string })._tag : exit.cause.reasons[0]?._tag ?? "empty"
            outcomes.failed.set(tag, (outcomes.failed.get(tag) ?? 0) + 1)
          }
        }
      })
      const fibers = yield* Effect.forkChild(Effect.all(Array.from({ length: 10 }, () => load), { concurrency: "unbounded" }))
      yield* eventually("calls flow", () => outcomes.ok > 50)
      for (let round = 0; round < 3; round++) {
        yield* Effect.promise(server.stop)
        const before = outcomes.failed.size
        yield* eventually("calls fail while the server is down", () => [...outcomes.failed.values()].reduce((a, b) => a + b, 0) > before, 10_000)
        yield* Effect.promise(server.start)
        const okBefore = outcomes.ok
        yield* eventually("calls succeed again after the restart", () => outcomes.ok > okBefore + 50, 15_000)
      }
      running = false
      yield* Fiber.join(fibers)
      // every failure was typed: a gRPC status or no channel within acquireTimeout
      for (const tag of outcomes.failed.keys()) expect(["GrpcError", "PoolTimeoutError"]).toContain(tag)
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.pool.created).toBeGreaterThan(2)
      // no socket leaked: the proxy sees exactly the live channels' connections
      yield* eventually("connections = live channels", Effect.map(GrpcPool.stats(pool), (s) => proxy.open() === s.channels.filter((c) => c.state === "READY").length), 10_000)
      expect(proxy.open()).toBeLessThanOrEqual(4)
    }).pipe(Effect.scoped), 90_000)

  it.live("a call lent a channel whose connection just dropped never leaves: it is sent once more on another channel, and runs once", () =>
    Effect.gen(function*() {
      const { server, proxy, target } = yield* serverBehindProxy()
      // one channel at first; a second one opens when the first is half busy
      const pool = yield* GrpcPool.make({ target, minChannels: 1, maxChannels: 2, maxConcurrentStreamsPerChannel: 2, targetUtilization: 0.4, connectTimeout: "2 seconds" })
      const echo = echoClient(pool)
      const holdA = yield* Scope.make()
      const a = yield* Scope.provide(GrpcPool.channel(pool), holdA)
      yield* eventually("a second channel (the proxy's newest connection)", Effect.map(GrpcPool.stats(pool), (s) => s.pool.size === 2 && proxy.open() === 2))
      const b = yield* Effect.scoped(GrpcPool.channel(pool)) // the least-loaded one: the new channel
      expect(b).not.toBe(a)
      // B's connection drops and no new one is let through; A's carries on. The moment grpc-js
      // reports B leaving READY (before the pool has taken B out of rotation), a call is made:
      // the pool lends B, the least loaded, whose reconnect is refused, so the call fails with
      // UNAVAILABLE "No connection established" without having reached the server.
      let call: Fiber.Fiber<unknown, unknown> | undefined
      b.watchConnectivityState(grpc.connectivityState.READY, Infinity, () => {
        call = Effect.runFork(echo.unary({ text: "sent once" }))
      })
      proxy.refuseNew(true)
      proxy.resetNewest()
      yield* eventually("the call was made", () => call !== undefined)
      expect(yield* Fiber.join(call!)).toMatchObject({ text: "echo: sent once" })
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.retries).toBe(1)
      expect(server.calls.unary).toBe(1)
      yield* Scope.close(holdA, Exit.void)
    }).pipe(Effect.scoped), 60_000)

  it.live("an idle connection that dies silently (a proxy that stops forwarding) is detected by keepalive and replaced", () =>
    Effect.gen(function*() {
      const { proxy, target } = yield* serverBehindProxy({
        options: { "grpc.keepalive_permit_without_calls": 1, "grpc.http2.min_ping_interval_without_data_ms": 50 } as grpc.ServerOptions
      })
      const pool = yield* GrpcPool.make({
        target,
        minChannels: 1,
        maxChannels: 1,
        keepalive: { time: "200 millis", timeout: "300 millis", permitWithoutCalls: true },
        connectTimeout: "2 seconds"
      })
      const echo = echoClient(pool)
      expect((yield* echo.unary({ text: "before" })).text).toBe("echo: before")
      proxy.blackhole(true)
      // the unanswered ping drops the connection: the channel leaves READY and is destroyed
      yield* eventually("the dead channel was replaced", Effect.map(GrpcPool.stats(pool), (s) => s.pool.destroyed >= 1), 15_000)
      proxy.blackhole(false)
      // (ending the blackhole resets the replacement's connection attempt too: wait for it)
      expect((yield* echo.unary({ text: "after" }, { waitForReady: true })).text).toBe("echo: after")
    }).pipe(Effect.scoped), 60_000)

  it.live("health NOT_SERVING: the channel leaves rotation on its connection, calls wait (and time out with the reason); SERVING again: the same channel comes back", () =>
    Effect.gen(function*() {
      const { server, proxy, target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({
        target,
        minChannels: 1,
        maxChannels: 1,
        healthCheck: { service: "effectpool.test.Echo", schedule: Schedule.spaced("50 millis") },
        acquireTimeout: "1 second"
      })
      const echo = echoClient(pool)
      expect((yield* echo.unary({ text: "up" })).text).toBe("echo: up")
      server.health.setStatus("effectpool.test.Echo", "NOT_SERVING")
      yield* eventually("the channel left rotation", Effect.map(GrpcPool.stats(pool), (s) => s.pool.suspended === 1))
      expect((yield* GrpcPool.stats(pool)).channels).toMatchObject([{ state: "READY", notServing: true }])
      const refused = yield* Effect.flip(echo.unary({ text: "down" }))
      expect(refused).toMatchObject({ _tag: "PoolTimeoutError", phase: "suspended" })
      expect(causeText(refused)).toMatch(/not SERVING/)
      expect(server.calls.unary).toBe(1) // the refused call never reached the server
      server.health.setStatus("effectpool.test.Echo", "SERVING")
      expect((yield* echo.unary({ text: "back" })).text).toBe("echo: back")
      // the same channel on the same connection: nothing was closed or opened
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.pool).toMatchObject({ suspended: 0, created: 1, destroyed: 0 })
      expect(stats.channels).toMatchObject([{ state: "READY", notServing: false }])
      expect(proxy.accepted()).toBe(1)
    }).pipe(Effect.scoped), 60_000)

  it.live("a health check that gets no answer replaces the channel (a broken connection is not suspended)", () =>
    Effect.gen(function*() {
      const { proxy, target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({
        target,
        minChannels: 1,
        maxChannels: 1,
        healthCheck: { service: "effectpool.test.Echo", schedule: Schedule.spaced("100 millis"), timeout: "300 millis" },
        connectTimeout: "2 seconds"
      })
      const echo = echoClient(pool)
      expect((yield* echo.unary({ text: "up" })).text).toBe("echo: up")
      proxy.blackhole(true) // the connection stays "READY" but nothing answers
      yield* eventually("the unanswering channel was replaced", Effect.map(GrpcPool.stats(pool), (s) => s.pool.destroyed >= 1), 15_000)
      proxy.blackhole(false)
      // a replacement's attempt may have failed while the proxy dropped everything: a fail-fast
      // call made now could fail UNAVAILABLE (grpc's semantics); this one waits for the pool to heal
      expect((yield* echo.unary({ text: "after" }, { waitForReady: true })).text).toBe("echo: after")
      expect((yield* GrpcPool.stats(pool)).pool.suspended).toBe(0)
    }).pipe(Effect.scoped), 60_000)

  it.live("maxAge refresh under steady load: channels are replaced and no call fails", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 2, maxChannels: 2, maxConcurrentStreamsPerChannel: 20, maxAge: "300 millis" })
      const echo = echoClient(pool)
      const results = yield* Effect.forEach(Array.from({ length: 400 }, (_, i) => i), (i) => echo.unary({ text: `${i}`, delayMs: 20 }), { concurrency: 20 })
      expect(results.length).toBe(400)
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.pool.created).toBeGreaterThan(2)
    }).pipe(Effect.scoped), 60_000)

  it.live("close with calls in flight: short ones finish, long ones end at shutdownTimeout; every connection is closed", () =>
    Effect.gen(function*() {
      const { proxy, target, server } = yield* serverBehindProxy()
      const scope = yield* Scope.make()
      const pool = yield* Scope.provide(GrpcPool.make({ target, minChannels: 2, maxChannels: 2, shutdownTimeout: "500 millis" }), scope)
      const echo = echoClient(pool)
      const short = yield* Effect.forkChild(echo.unary({ text: "short", delayMs: 100 }))
      const long = yield* Effect.forkChild(echo.unary({ text: "long", delayMs: 30_000 }))
      yield* eventually("both calls on the server", () => (server.calls.unary ?? 0) === 2)
      yield* Scope.close(scope, Exit.void)
      expect((yield* Fiber.join(short)).text).toBe("echo: short")
      const cut = yield* Effect.flip(Fiber.join(long))
      expect(cut).toMatchObject({ _tag: "GrpcError", code: grpc.status.CANCELLED })
      yield* eventually("the server saw the cut call cancelled", () => server.cancelled.unary === 1)
      yield* eventually("every connection closed", () => proxy.open() === 0)
      expect(yield* Effect.flip(echo.unary({ text: "after" }))).toBeInstanceOf(PoolClosedError)
    }).pipe(Effect.scoped), 60_000)
})
