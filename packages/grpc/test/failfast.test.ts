/**
 * grpc's fail-fast default and `waitForReady`, against a real grpc-js server that is down, killed
 * and restarted. A fail-fast call waiting for a channel fails UNAVAILABLE as soon as a connection
 * attempt fails (at connectTimeout at the latest) while no channel is connected; a waitForReady
 * call waits until a channel is READY; either way DEADLINE_EXCEEDED once the deadline passes.
 * acquireTimeout is Infinity wherever a failure is asserted, so that only these rules can end a
 * call: without them the call would hang (the test's own timeout is the hang guard).
 */
import { describe, expect, it } from "@effect/vitest"
import { GrpcPool } from "@effect-pool/grpc"
import { startGrpcServer } from "@effect-pool/testing"
import * as grpc from "@grpc/grpc-js"
import { Effect, Exit, Fiber, Stream } from "effect"
import { echoClient, eventually, serverBehindProxy } from "./helpers.js"

/** A server that was up (so its port is known) and is now down; `start` brings it back on that port. */
const downServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = await startGrpcServer()
    await server.stop()
    return server
  }),
  (s) => Effect.promise(s.close)
)

const code = (error: unknown) => (error as { code?: number }).code

describe("GrpcPool fail-fast and waitForReady", () => {
  it.live("acquireTimeout 0 does not cut make's warm-up short: make returns with its minChannels READY, and calls find them free", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startGrpcServer()), (s) => Effect.promise(s.close))
      // found by an independent probe: make returned with no channel (the warm-up was bounded by
      // acquireTimeout), and every call failed PoolTimeoutError at once against a healthy server
      const pool = yield* GrpcPool.make({ target: server.target, minChannels: 2, maxChannels: 2, acquireTimeout: 0, connectTimeout: "1 minute" })
      expect((yield* GrpcPool.stats(pool)).channels.map((c) => c.state)).toEqual(["READY", "READY"])
      const echo = echoClient(pool)
      expect(yield* Effect.all([echo.unary({ text: "a" }), echo.unary({ text: "b" })], { concurrency: "unbounded" })).toHaveLength(2)
    }).pipe(Effect.scoped))

  it.live("server down at make (minChannels 0): every call kind fails UNAVAILABLE, not after acquireTimeout", () =>
    Effect.gen(function*() {
      const server = yield* downServer
      const pool = yield* GrpcPool.make({ target: server.target, minChannels: 0, connectTimeout: "1 minute", acquireTimeout: Infinity })
      const echo = echoClient(pool)
      const first = yield* Effect.flip(echo.unary({ text: "x" }))
      expect(first).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      // the failed attempt, not connectTimeout (1 minute), ended it
      expect((first as { details: string }).details).toMatch(/TRANSIENT_FAILURE/)
      // while the pool goes on trying: at once, every call kind and channel()
      const failures = [
        yield* Effect.flip(echo.unary({ text: "x" })),
        yield* Effect.flip(Stream.runDrain(echo.serverStream({ text: "x", n: 1 }))),
        yield* Effect.flip(echo.clientStream(Stream.make({ text: "x" }))),
        yield* Effect.flip(Stream.runDrain(echo.bidi(Stream.make({ text: "x" })))),
        yield* Effect.flip(Effect.scoped(GrpcPool.channel(pool)))
      ]
      for (const error of failures) expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.pool).toMatchObject({ waiting: 0, borrowed: 0, timeouts: 0 })
    }).pipe(Effect.scoped))

  it.live("a connection attempt that hangs (accepted, never answered): fail-fast calls fail UNAVAILABLE at connectTimeout; a shorter deadline fails DEADLINE_EXCEEDED first", () =>
    Effect.gen(function*() {
      const { proxy, target } = yield* serverBehindProxy()
      proxy.blackhole(true)
      const pool = yield* GrpcPool.make({ target, minChannels: 0, connectTimeout: "300 millis", acquireTimeout: Infinity })
      const echo = echoClient(pool)
      const timedOut = yield* Effect.flip(echo.unary({ text: "x" }))
      expect(timedOut).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      expect((timedOut as { details: string }).details).toMatch(/not ready within 300 ms/)
      const slow = yield* GrpcPool.make({ target, minChannels: 0, connectTimeout: "1 minute", acquireTimeout: Infinity })
      const deadline = yield* Effect.flip(echoClient(slow).unary({ text: "x" }, { timeout: "100 millis" }))
      expect(deadline).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      const streamed = yield* Effect.flip(Stream.runDrain(echoClient(slow).serverStream({ text: "x", n: 1 }, { timeout: "100 millis" })))
      expect(streamed).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
    }).pipe(Effect.scoped))

  it.live("server killed: once its channels are gone calls fail UNAVAILABLE; a waitForReady call made meanwhile succeeds when it is back", () =>
    Effect.gen(function*() {
      const { server, target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 2, maxChannels: 2, connectTimeout: "1 minute", acquireTimeout: Infinity })
      const echo = echoClient(pool)
      expect((yield* echo.unary({ text: "up" })).text).toBe("echo: up")
      yield* Effect.promise(server.stop)
      yield* eventually("the dead channels left the pool", Effect.map(GrpcPool.stats(pool), (s) => s.channels.length === 0), 15_000)
      const down = yield* Effect.flip(echo.unary({ text: "down" }))
      expect(down).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      const patient = yield* Effect.fork(echo.unary({ text: "patient" }, { waitForReady: true }))
      yield* eventually("the waitForReady call waits", Effect.map(GrpcPool.stats(pool), (s) => s.pool.waiting === 1))
      // it outlives fail-fast calls that fail meanwhile
      expect(yield* Effect.flip(echo.unary({ text: "down" }))).toMatchObject({ code: grpc.status.UNAVAILABLE })
      expect(patient.unsafePoll()).toBeNull()
      yield* Effect.promise(server.start)
      expect((yield* Fiber.join(patient)).text).toBe("echo: patient")
      // and fail-fast calls succeed again (recovery as before)
      expect((yield* echo.unary({ text: "back" })).text).toBe("echo: back")
    }).pipe(Effect.scoped), 60_000)

  it.live("waitForReady: the pool's default, overridden per call (also by a grpc-js Metadata's waitForReady); its deadline still ends it", () =>
    Effect.gen(function*() {
      const server = yield* downServer
      const pool = yield* GrpcPool.make({ target: server.target, minChannels: 0, waitForReady: true, connectTimeout: "200 millis", acquireTimeout: Infinity })
      const echo = echoClient(pool)
      const waiting = yield* Effect.fork(echo.unary({ text: "default" }))
      const metadata = new grpc.Metadata({ waitForReady: true })
      metadata.set("x-request", "md")
      const failFastPool = yield* GrpcPool.make({ target: server.target, minChannels: 0, connectTimeout: "200 millis", acquireTimeout: Infinity })
      const byMetadata = yield* Effect.fork(echoClient(failFastPool).unary({ text: "metadata" }, { metadata }))
      // several connection attempts fail while they wait
      yield* eventually("connection attempts failed", Effect.map(GrpcPool.stats(pool), (s) => s.pool.failures >= 2), 15_000)
      yield* eventually("connection attempts failed", Effect.map(GrpcPool.stats(failFastPool), (s) => s.pool.failures >= 2), 15_000)
      expect(waiting.unsafePoll()).toBeNull()
      expect(byMetadata.unsafePoll()).toBeNull()
      // per call: fail fast on a waitForReady pool; and a deadline ends a wait
      const failFast = yield* Effect.flip(echo.unary({ text: "x" }, { waitForReady: false }))
      expect(failFast).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      expect(code(yield* Effect.flip(echo.unary({ text: "x" }, { timeout: "100 millis" })))).toBe(grpc.status.DEADLINE_EXCEEDED)
      expect(code(yield* Effect.flip(echoClient(failFastPool).unary({ text: "x" })))).toBe(grpc.status.UNAVAILABLE)
      yield* Effect.promise(server.start)
      expect((yield* Fiber.join(waiting)).text).toBe("echo: default")
      expect((yield* Fiber.join(byMetadata)).text).toBe("echo: metadata [x-request=md]")
    }).pipe(Effect.scoped), 60_000)

  it.live("busy is not down: a fail-fast call waits for a free stream; its deadline ends the wait with DEADLINE_EXCEEDED", () =>
    Effect.gen(function*() {
      const { target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 1, maxChannels: 1, maxConcurrentStreamsPerChannel: 1, acquireTimeout: Infinity })
      const echo = echoClient(pool)
      const busy = yield* Effect.fork(echo.unary({ text: "busy", delayMs: 1_000 }))
      yield* eventually("the only stream is busy", () => server.calls.unary === 1)
      const next = yield* Effect.fork(echo.unary({ text: "next" }))
      const late = yield* Effect.flip(echo.unary({ text: "late" }, { timeout: "100 millis" }))
      expect(late).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      expect((yield* Fiber.join(busy)).text).toBe("echo: busy")
      expect((yield* Fiber.join(next)).text).toBe("echo: next")
      expect(server.calls.unary).toBe(2) // the late call never reached the server
      const stats = yield* GrpcPool.stats(pool)
      expect(stats.pool).toMatchObject({ waiting: 0, borrowed: 0 })
      expect(Exit.isSuccess(yield* Effect.exit(echo.unary({ text: "after" })))).toBe(true)
    }).pipe(Effect.scoped))
})
