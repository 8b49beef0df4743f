/** The gRPC pool against a real grpc-js server: connections, call kinds, metadata, deadlines, cancellation, options. */
import { describe, expect, it } from "@effect/vitest"
import { PoolConfigError } from "@effect-pool/core"
import { GrpcError, GrpcPool } from "@effect-pool/grpc"
import { selfSignedCertificate, startGrpcServer } from "@effect-pool/testing-effect4"
import * as grpc from "@grpc/grpc-js"
import { Effect, Fiber, Stream } from "effect"
import { Echo, echoClient, eventually, serverBehindProxy, serverGrpc } from "./helpers.js"

describe("GrpcPool", () => {
  it.live("N channels are N TCP connections, and concurrent calls spread over them", () =>
    Effect.gen(function*() {
      const { proxy, target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 3, maxChannels: 3, maxConcurrentStreamsPerChannel: 10 })
      const echo = echoClient(pool)
      yield* eventually("3 channels ready", Effect.map(GrpcPool.stats(pool), (s) => s.channels.filter((c) => c.state === "READY").length === 3))
      expect(proxy.open()).toBe(3)
      const running = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 30 }), () => echo.unary({ text: "x", delayMs: 300 }), { concurrency: "unbounded" }))
      yield* eventually("30 calls on the server", () => server.peak() === 30)
      const { channels } = yield* GrpcPool.stats(pool)
      expect(channels.map((c) => c.activeCalls)).toEqual([10, 10, 10])
      yield* Fiber.join(running)
      expect(proxy.accepted()).toBe(3)
    }).pipe(Effect.scoped))

  it.live("a burst right after make spreads over the minChannels (default streams per channel)", () =>
    Effect.gen(function*() {
      const { proxy, target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, minChannels: 3, maxChannels: 3 })
      const echo = echoClient(pool)
      const running = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 60 }), () => echo.unary({ text: "x", delayMs: 300 }), { concurrency: "unbounded" }))
      yield* eventually("60 calls on the server", () => server.peak() === 60)
      const { channels } = yield* GrpcPool.stats(pool)
      expect(channels.map((c) => c.activeCalls)).toEqual([20, 20, 20])
      yield* Fiber.join(running)
      expect(proxy.accepted()).toBe(3)
    }).pipe(Effect.scoped))

  it.live("a burst right after make rides every TCP connection: the server sees each of the 3 connections serve about a third of 60 calls", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startGrpcServer()), (s) => Effect.promise(s.close))
      const pool = yield* GrpcPool.make({ target: server.target, minChannels: 3, maxChannels: 3 })
      const echo = echoClient(pool)
      yield* Effect.forEach(Array.from({ length: 60 }), () => echo.unary({ text: "x", delayMs: 100 }), { concurrency: "unbounded" })
      // the client's address as the server sees it: one remote port per TCP connection
      const perConnection = Object.values(server.peers)
      expect(perConnection).toHaveLength(3)
      expect(perConnection.reduce((a, b) => a + b, 0)).toBe(60)
      // least-loaded: 20 each when all 60 go out before any ends; a busy machine shifts a few
      for (const served of perConnection) expect(served).toBeGreaterThanOrEqual(10)
    }).pipe(Effect.scoped))

  it.live("a server allowing 10 streams per connection: 100 concurrent calls open channels up to maxChannels", () =>
    Effect.gen(function*() {
      const { proxy, target, server } = yield* serverBehindProxy({ maxConcurrentStreams: 10 })
      const pool = yield* GrpcPool.make({ target, minChannels: 1, maxChannels: 5, maxConcurrentStreamsPerChannel: 10, targetUtilization: 1 })
      const echo = echoClient(pool)
      const results = yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) => echo.unary({ text: `${i}`, delayMs: 200 }), { concurrency: "unbounded" })
      expect(results.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => `echo: ${i}`))
      // five connections carried 50 calls at once; one channel would have carried 10
      expect(server.peak()).toBe(50)
      expect(proxy.accepted()).toBe(5)
      expect((yield* GrpcPool.stats(pool)).pool.size).toBe(5)
    }).pipe(Effect.scoped))

  it.live("the four call kinds, metadata both ways, status codes and details carried into GrpcError", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 2 })
      const echo = echoClient(pool)
      expect((yield* echo.unary({ text: "hi" }, { metadata: { "x-request": "42" } })).text).toBe("echo: hi [x-request=42]")
      const metadata = new grpc.Metadata()
      metadata.set("x-request", "7")
      expect((yield* echo.unary({ text: "hi" }, { metadata })).text).toBe("echo: hi [x-request=7]")
      const streamed = yield* Stream.runCollect(echo.serverStream({ text: "s", n: 5 }))
      expect(Array.from(streamed).map((m) => m.text)).toEqual(["s 0", "s 1", "s 2", "s 3", "s 4"])
      const counted = yield* echo.clientStream(Stream.fromIterable(["a", "b", "c"].map((text) => ({ text }))))
      expect(counted).toMatchObject({ text: "a,b,c", n: 3 })
      const echoed = yield* Stream.runCollect(echo.bidi(Stream.fromIterable(["x", "y"].map((text) => ({ text })))))
      expect(Array.from(echoed).map((m) => m.text)).toEqual(["echo: x", "echo: y"])
      const failed = yield* Effect.flip(echo.unary({ text: "no such user", code: grpc.status.NOT_FOUND }))
      expect(failed).toBeInstanceOf(GrpcError)
      expect(failed).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such user", message: "NOT_FOUND: no such user" })
      if (failed instanceof GrpcError) expect(failed.metadata?.get("x-detail")).toEqual(["from-server"])
      const streamFailed = yield* Effect.flip(Stream.runCollect(echo.serverStream({ text: "s", n: 2, code: grpc.status.PERMISSION_DENIED })))
      expect(streamFailed).toMatchObject({ _tag: "GrpcError", code: grpc.status.PERMISSION_DENIED })
      // methods under the names the constructor's prototype has, too
      const byOriginalName = GrpcPool.client<{ Unary: typeof echo.unary }>(pool, Echo)
      expect((yield* byOriginalName.Unary({ text: "o" })).text).toBe("echo: o")
    }).pipe(Effect.scoped))

  it.live("deadlines: DEADLINE_EXCEEDED is typed, for a timeout and for a deadline", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target })
      const echo = echoClient(pool)
      const timedOut = yield* Effect.flip(echo.unary({ text: "slow", delayMs: 5_000 }, { timeout: "100 millis" }))
      expect(timedOut).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      const past = yield* Effect.flip(echo.unary({ text: "slow", delayMs: 5_000 }, { deadline: new Date(Date.now() + 100) }))
      expect(past).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      expect((yield* echo.unary({ text: "fast" }, { timeout: "10 seconds" })).text).toBe("echo: fast")
    }).pipe(Effect.scoped))

  it.live("a request that does not serialize and a response that does not parse fail INTERNAL with the reason; the channel stays usable", () =>
    Effect.gen(function*() {
      const { target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 1 })
      const unary = Echo.service.Unary
      const Broken = grpc.makeGenericClientConstructor({
        BadRequest: { ...unary, requestSerialize: () => { throw new Error("no encoding for this") } },
        BadResponse: { ...unary, responseDeserialize: () => { throw new Error("garbled") } }
      }, "Echo")
      const broken = GrpcPool.client<{ BadRequest: typeof echo.unary; BadResponse: typeof echo.unary }>(pool, Broken)
      const echo = echoClient(pool)
      const unsent = yield* Effect.flip(broken.BadRequest({ text: "x" }))
      expect(unsent).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      expect((unsent as GrpcError).details).toMatch(/Request message serialization failure: no encoding for this/)
      expect(server.calls.unary ?? 0).toBe(0) // never reached the server
      const unparsed = yield* Effect.flip(broken.BadResponse({ text: "y" }))
      expect(unparsed).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      expect((unparsed as GrpcError).details).toMatch(/Response message parsing error: garbled/)
      expect((yield* echo.unary({ text: "still fine" })).text).toBe("echo: still fine")
      expect((yield* GrpcPool.stats(pool)).channels.map((c) => c.activeCalls)).toEqual([0])
    }).pipe(Effect.scoped))

  it.live("interrupting a unary, a server-streaming and a bidi call: the server sees CANCELLED, the channel is free", () =>
    Effect.gen(function*() {
      const { target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 1 })
      const echo = echoClient(pool)
      // a ready, idle channel: the calls below borrow it at once (the common case)
      expect((yield* echo.unary({ text: "warm" })).text).toBe("echo: warm")
      const unary = yield* Effect.forkChild(echo.unary({ text: "slow", delayMs: 10_000 }))
      const streaming = yield* Effect.forkChild(Stream.runDrain(echo.serverStream({ text: "s", n: 1_000, delayMs: 50 })))
      const bidi = yield* Effect.forkChild(Stream.runDrain(echo.bidi(Stream.never)))
      yield* eventually("three calls on the server", () => (server.calls.unary ?? 0) + (server.calls.serverStream ?? 0) + (server.calls.bidi ?? 0) === 4)
      yield* Fiber.interrupt(unary)
      yield* Fiber.interrupt(streaming)
      yield* Fiber.interrupt(bidi)
      yield* eventually("the server saw three cancellations", () =>
        server.cancelled.unary === 1 && server.cancelled.serverStream === 1 && server.cancelled.bidi === 1)
      expect((yield* GrpcPool.stats(pool)).channels.map((c) => c.activeCalls)).toEqual([0])
      // taking only part of a stream cancels the rest
      const firstTwo = yield* Stream.runCollect(Stream.take(echo.serverStream({ text: "t", n: 1_000, delayMs: 10 }), 2))
      expect(firstTwo.length).toBe(2)
      yield* eventually("the partly read stream was cancelled", () => server.cancelled.serverStream === 2)
    }).pipe(Effect.scoped))

  it.live("client-streaming requests are written with back-pressure: a large stream arrives whole", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target })
      const echo = echoClient(pool)
      const text = "x".repeat(16 * 1024) // 200 of them: 3.2 MB, under the default 4 MB response limit
      const result = yield* echo.clientStream(Stream.range(1, 200).pipe(Stream.map(() => ({ text }))))
      expect(result.n).toBe(200)
      expect(result.text.length).toBe(200 * text.length + 199)
    }).pipe(Effect.scoped))

  it.live("TLS with a CA made at test time: verified, and refused without the CA", () =>
    Effect.gen(function*() {
      const certificate = selfSignedCertificate()
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startGrpcServer({
          credentials: serverGrpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(certificate.key), cert_chain: Buffer.from(certificate.cert) }])
        })),
        (s) => Effect.promise(s.close)
      )
      const pool = yield* GrpcPool.make({ target: `localhost:${server.port}`, credentials: grpc.credentials.createSsl(Buffer.from(certificate.cert)) })
      expect((yield* echoClient(pool).unary({ text: "secure" })).text).toBe("echo: secure")
      const untrusted = yield* GrpcPool.make({ target: `localhost:${server.port}`, credentials: grpc.credentials.createSsl(), connectTimeout: "1 second", acquireTimeout: "1500 millis" })
      // a handshake that fails is a connection that fails: fail-fast UNAVAILABLE, as grpc-js's own client
      const refused = yield* Effect.flip(echoClient(untrusted).unary({ text: "secure" }))
      expect(refused).toMatchObject({ _tag: "GrpcError", code: grpc.status.UNAVAILABLE })
      // waiting for a connection that never comes: the pool's timeout, whose cause says why
      const waited = yield* Effect.flip(echoClient(untrusted).unary({ text: "secure" }, { waitForReady: true }))
      expect(waited._tag).toBe("PoolTimeoutError")
    }).pipe(Effect.scoped))

  it.live("channel(pool) lends a channel to a generated client (channelOverride)", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target })
      const reply = yield* Effect.scoped(Effect.gen(function*() {
        const channel = yield* GrpcPool.channel(pool)
        const generated = new Echo(target, grpc.credentials.createInsecure(), { channelOverride: channel }) as any
        return yield* Effect.callback<{ text: string }>((resume) => {
          generated.unary({ text: "own client" }, (_: unknown, response: { text: string }) => resume(Effect.succeed(response)))
        })
      }))
      expect(reply.text).toBe("echo: own client")
    }).pipe(Effect.scoped))

  it.live("bad options fail make with PoolConfigError naming the option", () =>
    Effect.gen(function*() {
      const cases: Array<[Partial<GrpcPool.Options>, string]> = [
        [{ target: "" }, "target"],
        [{ maxChannels: 0 }, "maxChannels"],
        [{ minChannels: 5, maxChannels: 2 }, "minChannels"],
        [{ maxConcurrentStreamsPerChannel: 0 }, "maxConcurrentStreamsPerChannel"],
        [{ connectTimeout: "-1 seconds" }, "connectTimeout"],
        [{ keepalive: { time: "often" as any } }, "keepalive.time"],
        [{ targetUtilization: 2 }, "targetUtilization"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", ...options })))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect(error.option).toBe(option)
      }
    }))
})
