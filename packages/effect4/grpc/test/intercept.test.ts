/**
 * Per-call grpc-js interceptors (`interceptors`, `interceptor_providers`) on every call kind,
 * against a real grpc-js server: an interceptor sees and changes the outgoing metadata and sees
 * the server's; the call's own callbacks still run; an interceptor that throws as the call is
 * made fails the call INTERNAL with the slot back.
 */
import { describe, expect, it } from "@effect/vitest"
import { GrpcPool } from "@effect-pool/grpc"
import * as grpc from "@grpc/grpc-js"
import { Effect, Stream } from "effect"
import { echoClient, eventually, serverBehindProxy } from "./helpers.js"

/** Sets `x-request` on the way out and records the server's `x-echo` (initial metadata) and status codes. */
const tagging = (seen: { echoes: Array<string>; codes: Array<number> }, value: string): grpc.Interceptor => (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start: (metadata, _listener, next) => {
      metadata.set("x-request", value)
      next(metadata, {
        onReceiveMetadata: (received, nextMetadata) => {
          seen.echoes.push(String(received.get("x-echo")[0]))
          nextMetadata(received)
        },
        onReceiveStatus: (status, nextStatus) => {
          seen.codes.push(status.code)
          nextStatus(status)
        }
      })
    }
  })

describe("GrpcPool per-call interceptors", () => {
  it.live("an interceptor sets outgoing metadata and sees the server's, on every call kind; the call's callbacks still run", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 1 })
      const echo = echoClient(pool)
      const seen = { echoes: [] as Array<string>, codes: [] as Array<number> }
      const interceptors = [tagging(seen, "from-interceptor")]
      const statuses: Array<number> = []
      const unary = yield* echo.unary({ text: "u" }, { interceptors, metadata: { "x-request": "from-caller" }, onStatus: (s) => statuses.push(s.code) })
      // the interceptor ran after the caller's metadata was set: its value is what arrived
      expect(unary.text).toBe("echo: u [x-request=from-interceptor]")
      expect(statuses).toEqual([grpc.status.OK])
      yield* Stream.runDrain(echo.serverStream({ text: "s", n: 2 }, { interceptors }))
      yield* echo.clientStream(Stream.make({ text: "a" }, { text: "b" }), { interceptors })
      const bidi = yield* Stream.runCollect(echo.bidi(Stream.make({ text: "x" }), { interceptors }))
      expect(Array.from(bidi).map((m) => m.text)).toEqual(["echo: x"])
      expect(seen.echoes).toEqual(["from-interceptor", "from-interceptor", "from-interceptor", "from-interceptor"])
      expect(seen.codes).toEqual([0, 0, 0, 0])
      // without interceptors, the call is as it was
      expect((yield* echo.unary({ text: "plain" })).text).toBe("echo: plain")
      expect(seen.echoes).toHaveLength(4)
    }).pipe(Effect.scoped))

  it.live("interceptor_providers are asked with the method; the status of a failing call passes through the interceptor into GrpcError", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 1 })
      const echo = echoClient(pool)
      const paths: Array<string> = []
      const seen = { echoes: [] as Array<string>, codes: [] as Array<number> }
      const interceptor_providers: Array<grpc.InterceptorProvider> = [(method) => {
        paths.push(method.path)
        return tagging(seen, "provided")
      }]
      const error = yield* Effect.flip(echo.unary({ text: "nope", code: grpc.status.NOT_FOUND }, { interceptor_providers }))
      expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.NOT_FOUND, details: "nope" })
      expect((error as { metadata: grpc.Metadata }).metadata.get("x-detail")).toEqual(["from-server"])
      expect(paths).toEqual(["/effectpool.test.Echo/Unary"])
      expect(seen).toEqual({ echoes: ["provided"], codes: [grpc.status.NOT_FOUND] })
    }).pipe(Effect.scoped))

  it.live("an interceptor that throws as the call is made, or an onMetadata that throws: INTERNAL, nothing leaked", () =>
    Effect.gen(function*() {
      const { target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, maxChannels: 1 })
      const echo = echoClient(pool)
      const broken: grpc.Interceptor = () => {
        throw new Error("broken interceptor")
      }
      const failures = [
        yield* Effect.flip(echo.unary({ text: "x" }, { interceptors: [broken] })),
        yield* Effect.flip(Stream.runDrain(echo.serverStream({ text: "x", n: 1 }, { interceptors: [broken] }))),
        yield* Effect.flip(echo.clientStream(Stream.make({ text: "x" }), { interceptors: [broken] })),
        yield* Effect.flip(Stream.runDrain(echo.bidi(Stream.make({ text: "x" }), { interceptors: [broken] })))
      ]
      for (const error of failures) expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      expect((failures[1] as { details: string }).details).toMatch(/broken interceptor/)
      const thrown = yield* Effect.flip(echo.unary({ text: "x" }, {
        interceptors: [tagging({ echoes: [], codes: [] }, "x")],
        onMetadata: () => {
          throw new Error("bad listener")
        }
      }))
      expect(thrown).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL, details: "onMetadata threw: bad listener" })
      yield* eventually("the pool's counts back to zero", Effect.map(GrpcPool.stats(pool), (s) =>
        s.pool.borrowed === 0 && s.channels.every((c) => c.activeCalls === 0)))
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
      expect(server.calls.serverStream ?? 0).toBe(0)
    }).pipe(Effect.scoped))
})
