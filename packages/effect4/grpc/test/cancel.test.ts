/**
 * Every call kind ends promptly on interruption, on `Effect.timeout` and at its deadline, with a
 * request Stream that never ends: the server sees the call cancelled and the pool's counts go
 * back to zero. The tests wait for events (the server's counters, the pool's stats), never for a
 * wall-clock margin; a call that hung would hang the test until vitest's timeout.
 */
import { describe, expect, it } from "@effect/vitest"
import { GrpcPool } from "@effect-pool/grpc"
import * as grpc from "@grpc/grpc-js"
import { Effect, Fiber, Option, Stream } from "effect"
import { echoClient, eventually, serverBehindProxy } from "./helpers.js"

const idle = (pool: GrpcPool.GrpcPool) =>
  eventually("the pool's counts back to zero", Effect.map(GrpcPool.stats(pool), (s) =>
    s.pool.borrowed === 0 && s.pool.waiting === 0 && s.channels.every((c) => c.activeCalls === 0)))

const setup = Effect.gen(function*() {
  const { target, server } = yield* serverBehindProxy()
  const pool = yield* GrpcPool.make({ target, credentials: grpc.credentials.createInsecure(), maxChannels: 1 })
  const echo = echoClient(pool)
  expect((yield* echo.unary({ text: "warm" })).text).toBe("echo: warm")
  const calls = (method: string) => server.calls[method] ?? 0
  const cancelled = (method: string) => server.cancelled[method] ?? 0
  return { pool, echo, calls, cancelled }
})

describe("GrpcPool cancellation with a request Stream that never ends", () => {
  it.live("interrupting a client-streaming call cancels it at once", () =>
    Effect.gen(function*() {
      const { pool, echo, calls } = yield* setup
      // (the test server counts a client-streaming cancel as the end of its requests: the call's
      // own status says it was cancelled)
      const statuses: Array<number> = []
      const fiber = yield* Effect.forkChild(echo.clientStream(Stream.concat(Stream.make({ text: "a" }), Stream.never), { onStatus: (s) => statuses.push(s.code) }))
      yield* eventually("the call on the server", () => calls("clientStream") === 1)
      yield* Fiber.interrupt(fiber)
      yield* eventually("the call ended CANCELLED", () => statuses[0] === grpc.status.CANCELLED)
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("Effect.timeout stops a client-streaming call", () =>
    Effect.gen(function*() {
      const { pool, echo } = yield* setup
      const statuses: Array<number> = []
      const result = yield* echo.clientStream(Stream.never, { onStatus: (s) => statuses.push(s.code) }).pipe(Effect.timeout("100 millis"), Effect.option)
      expect(Option.isNone(result)).toBe(true)
      yield* eventually("the call ended CANCELLED", () => statuses[0] === grpc.status.CANCELLED)
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("a client-streaming call's deadline ends it with DEADLINE_EXCEEDED, without waiting for the next request", () =>
    Effect.gen(function*() {
      const { pool, echo } = yield* setup
      // the next request would come only after 60 s
      const requests = Stream.concat(Stream.make({ text: "a" }), Stream.fromEffect(Effect.as(Effect.sleep("60 seconds"), { text: "b" })))
      const error = yield* Effect.flip(echo.clientStream(requests, { timeout: "100 millis" }))
      expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("a failing request Stream fails a client-streaming call with its own error", () =>
    Effect.gen(function*() {
      const { pool, echo } = yield* setup
      const boom = { _tag: "PoolClosedError" } as never
      const error = yield* Effect.flip(echo.clientStream(Stream.concat(Stream.make({ text: "a" }), Stream.fail(boom))))
      expect(error).toBe(boom)
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("bidi: interruption, Effect.timeout and the deadline end it", () =>
    Effect.gen(function*() {
      const { pool, echo, calls, cancelled } = yield* setup
      const fiber = yield* Effect.forkChild(Stream.runDrain(echo.bidi(Stream.never)))
      yield* eventually("the call on the server", () => calls("bidi") === 1)
      yield* Fiber.interrupt(fiber)
      yield* eventually("the server saw it cancelled", () => cancelled("bidi") === 1)
      const timedOut = yield* Stream.runDrain(echo.bidi(Stream.never)).pipe(Effect.timeout("100 millis"), Effect.option)
      expect(Option.isNone(timedOut)).toBe(true)
      yield* eventually("the server saw the second cancelled", () => cancelled("bidi") === 2)
      const error = yield* Effect.flip(Stream.runDrain(echo.bidi(Stream.never, { timeout: "100 millis" })))
      expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("server streaming and unary: interruption, Effect.timeout and the deadline end them", () =>
    Effect.gen(function*() {
      const { pool, echo, cancelled } = yield* setup
      const streamed = yield* Stream.runDrain(echo.serverStream({ text: "s", n: 1_000_000, delayMs: 1_000 })).pipe(Effect.timeout("100 millis"), Effect.option)
      expect(Option.isNone(streamed)).toBe(true)
      yield* eventually("the server saw the stream cancelled", () => cancelled("serverStream") === 1)
      const streamError = yield* Effect.flip(Stream.runDrain(echo.serverStream({ text: "s", n: 1_000_000, delayMs: 1_000 }, { timeout: "100 millis" })))
      expect(streamError).toMatchObject({ _tag: "GrpcError", code: grpc.status.DEADLINE_EXCEEDED })
      const unary = yield* echo.unary({ text: "slow", delayMs: 60_000 }).pipe(Effect.timeout("100 millis"), Effect.option)
      expect(Option.isNone(unary)).toBe(true)
      yield* eventually("the server saw the unary call cancelled", () => cancelled("unary") === 1)
      yield* idle(pool)
    }).pipe(Effect.scoped))
})
