/**
 * Hostile input: every option of `GrpcPool.make` and every per-call argument with wrong types,
 * out-of-range, overflowing, 0/Infinity/NaN values and unknown keys. Bad options are a
 * `PoolConfigError` naming the option at construction; bad call arguments are a typed
 * `GrpcError` INVALID_ARGUMENT from the call — never a defect, a throw inside a callback (an
 * uncaught exception fails the vitest run), a hang or a leaked stream slot: the pool's counts go
 * back to zero and the pool works afterwards.
 */
import { describe, expect, it } from "@effect/vitest"
import { PoolConfigError } from "@effect-pool/core"
import { GrpcError, GrpcPool } from "@effect-pool/grpc"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"
import * as grpc from "@grpc/grpc-js"
import { Cause, Effect, Exit, Fiber, Schedule, Stream, Option } from "effect"
import { Echo, echoClient, eventually, serverBehindProxy } from "./helpers.js"

const insecure = grpc.credentials.createInsecure()

const optionCases: Array<[string, Record<string, unknown>, string]> = [
  ["no target", { target: undefined }, "target"],
  ["empty target", { target: "" }, "target"],
  ["target not a string", { target: 50051 }, "target"],
  ["port out of range", { target: "127.0.0.1:99999" }, "target"],
  ["port 0", { target: "127.0.0.1:0" }, "target"],
  ["dns URI, bad port", { target: "dns:///localhost:70000" }, "target"],
  ["credentials not ChannelCredentials", { credentials: { secure: true } }, "credentials"],
  ["credentials a string", { credentials: "insecure" }, "credentials"],
  ["no credentials for a remote host", { target: "orders.example.com:443", credentials: undefined }, "credentials"],
  // a list is loopback only when every address is: plaintext would otherwise leave the machine
  ["no credentials, an ipv4 list with one remote address after a loopback one", { target: "ipv4:127.0.0.1:5000,192.0.2.2:443", credentials: undefined }, "credentials"],
  ["no credentials, an ipv6 list with one remote address", { target: "ipv6:[::1]:5000,[2001:db8::1]:443", credentials: undefined }, "credentials"],
  ["name empty", { name: " " }, "name"],
  ["name not a string", { name: 3 }, "name"],
  ["minChannels negative", { minChannels: -1 }, "minChannels"],
  ["minChannels NaN", { minChannels: NaN }, "minChannels"],
  ["minChannels fractional", { minChannels: 1.5 }, "minChannels"],
  ["minChannels above maxChannels", { minChannels: 5, maxChannels: 2 }, "minChannels"],
  ["maxChannels 0", { maxChannels: 0 }, "maxChannels"],
  ["maxChannels Infinity", { maxChannels: Infinity }, "maxChannels"],
  ["maxChannels a string", { maxChannels: "4" }, "maxChannels"],
  ["streams 0", { maxConcurrentStreamsPerChannel: 0 }, "maxConcurrentStreamsPerChannel"],
  ["streams past 2^31-1", { maxConcurrentStreamsPerChannel: 2 ** 31 }, "maxConcurrentStreamsPerChannel"],
  ["streams Infinity", { maxConcurrentStreamsPerChannel: Infinity }, "maxConcurrentStreamsPerChannel"],
  ["targetUtilization 0", { targetUtilization: 0 }, "targetUtilization"],
  ["targetUtilization NaN", { targetUtilization: NaN }, "targetUtilization"],
  ["targetUtilization 2", { targetUtilization: 2 }, "targetUtilization"],
  ["maxAgeJitter -0.1", { maxAgeJitter: -0.1 }, "maxAgeJitter"],
  ["maxAgeJitter Infinity", { maxAgeJitter: Infinity }, "maxAgeJitter"],
  ["maxAge 0", { maxAge: 0 }, "maxAge"],
  ["maxAge negative", { maxAge: -5 }, "maxAge"],
  ["maxAge garbage", { maxAge: "soon" }, "maxAge"],
  ["idleTimeout NaN", { idleTimeout: NaN }, "idleTimeout"],
  ["connectTimeout 0", { connectTimeout: 0 }, "connectTimeout"],
  ["connectTimeout negative", { connectTimeout: "-1 seconds" }, "connectTimeout"],
  ["acquireTimeout an object", { acquireTimeout: {} }, "acquireTimeout"],
  ["shutdownTimeout NaN", { shutdownTimeout: NaN }, "shutdownTimeout"],
  ["keepalive not an object", { keepalive: 5 }, "keepalive"],
  ["keepalive.time 0", { keepalive: { time: 0 } }, "keepalive.time"],
  ["keepalive.time garbage", { keepalive: { time: "often" } }, "keepalive.time"],
  ["keepalive.timeout 0", { keepalive: { timeout: 0 } }, "keepalive.timeout"],
  ["keepalive.permitWithoutCalls 1", { keepalive: { permitWithoutCalls: 1 } }, "keepalive.permitWithoutCalls"],
  ["keepalive unknown key", { keepalive: { interval: "1 minute" } }, "keepalive.interval"],
  ["channelOptions an array", { channelOptions: [] }, "channelOptions"],
  ["channelOptions not grpc's", { channelOptions: { keepalive: 1 } }, 'channelOptions["keepalive"]'],
  ["channelOptions keepalive (ours)", { channelOptions: { "grpc.keepalive_time_ms": 1000 } }, 'channelOptions["grpc.keepalive_time_ms"]'],
  ["channelOptions a boolean", { channelOptions: { "grpc.enable_retries": true } }, 'channelOptions["grpc.enable_retries"]'],
  ["healthCheck not an object", { healthCheck: true }, "healthCheck"],
  ["healthCheck.service not a string", { healthCheck: { service: 1 } }, "healthCheck.service"],
  ["healthCheck.schedule not a Schedule", { healthCheck: { schedule: "10 seconds" } }, "healthCheck.schedule"],
  ["healthCheck.timeout 0", { healthCheck: { timeout: 0 } }, "healthCheck.timeout"],
  ["healthCheck unknown key", { healthCheck: { interval: 1 } }, "healthCheck.interval"],
  ["healthCheck a bare Schedule", { healthCheck: Schedule.spaced("10 seconds") }, "healthCheck"],
  ["healthCheck.check (the pool's own)", { healthCheck: { check: () => Effect.void } }, "healthCheck.check"],
  ["healthCheck.onFailure (the pool's own)", { healthCheck: { onFailure: "evict" } }, "healthCheck.onFailure"],
  ["healthCheck.timeout NaN", { healthCheck: { timeout: NaN } }, "healthCheck.timeout"],
  ["healthCheck.timeout negative", { healthCheck: { timeout: -5 } }, "healthCheck.timeout"],
  ["unknown key, near ours", { maxChanels: 4 }, "maxChanels"],
  ["the core's name", { max: 4 }, "max"],
  ["grpc-gcp's name", { maxSize: 4 }, "maxSize"],
  ["grpc-gcp's watermark", { maxConcurrentStreamsLowWatermark: 100 }, "maxConcurrentStreamsLowWatermark"],
  ["gax's name", { minChannelCount: 2 }, "minChannelCount"],
  ["waitForReady not a boolean", { waitForReady: "true" }, "waitForReady"],
  ["waitForReady a number", { waitForReady: 1 }, "waitForReady"]
]

const idle = (pool: GrpcPool.GrpcPool) =>
  eventually("the pool's counts back to zero", Effect.map(GrpcPool.stats(pool), (s) =>
    s.pool.borrowed === 0 && s.pool.waiting === 0 && s.channels.every((c) => c.activeCalls === 0)))

/** A caller's objects whose methods throw: a grpc-js Metadata whose getMap does, a Date whose getTime does. */
const throwingGetMap = new grpc.Metadata()
throwingGetMap.getMap = () => {
  throw null
}
const throwingGetTime = new Date()
throwingGetTime.getTime = () => {
  throw new Error("getTime")
}

const badCallOptions: Array<[string, unknown, string]> = [
  ["a metadata key with illegal characters", { metadata: { "Bad Key!": "x" } }, "Bad Key!"],
  ["a string for a -bin key", { metadata: { "x-data-bin": "not a buffer" } }, "x-data-bin"],
  ["a Buffer for a text key", { metadata: { "x-text": Buffer.from("x") } }, "x-text"],
  ["a number value", { metadata: { "x-n": 5 } }, "x-n"],
  ["a non-printable value", { metadata: { "x-text": "a\nb" } }, "x-text"],
  ["metadata not an object", { metadata: "x-a=b" }, "metadata"],
  // found by an independent probe: these threw out of the client method, before any Effect
  ["an array value whose length trap throws", { metadata: { "x-a": new Proxy(["a"], { get: (t, k) => { if (k === "length") throw new Error("length trap"); return Reflect.get(t, k) } }) } }, "x-a"],
  ["metadata whose getPrototypeOf trap throws", { metadata: new Proxy({}, { getPrototypeOf: () => { throw new Error("prototype trap") } }) }, "metadata"],
  ["an unparsable timeout", { timeout: "soonish" }, "timeout"],
  ["a negative timeout", { timeout: -1 }, "timeout"],
  ["a NaN timeout", { timeout: NaN }, "timeout"],
  ["an invalid Date", { deadline: new Date("never") }, "deadline"],
  ["a deadline string", { deadline: "tomorrow" }, "deadline"],
  ["onStatus not a function", { onStatus: 1 }, "onStatus"],
  ["waitForReady not a boolean", { waitForReady: "yes" }, "waitForReady"],
  ["waitForReady a number", { waitForReady: 1 }, "waitForReady"],
  ["interceptors not an array", { interceptors: () => undefined }, "interceptors"],
  ["an interceptor not a function", { interceptors: [{ start: 1 }] }, "interceptors[0]"],
  ["interceptor_providers not an array", { interceptor_providers: "x" }, "interceptor_providers"],
  ["interceptors and interceptor_providers", { interceptors: [() => undefined], interceptor_providers: [() => undefined] }, "interceptor_providers"],
  ["compress not a boolean", { compress: "gzip" }, "compress"],
  ["compress on a pool that does not compress", { compress: true }, "compress"],
  ["an unknown option", { deadlin: new Date() }, "deadlin"],
  // a getter or Proxy of the caller's that throws: that argument's error, never a defect
  ["a getter that throws", throwingGetter({}, "timeout"), "timeout"],
  ["a metadata getter that throws", { metadata: throwingGetter({}, "x-a") }, "x-a"],
  ["options that cannot be listed", throwingKeys({}), "options"],
  ["a Proxy that throws on reading a key it does not list", throwingReads({ waitForReady: "yes" }), "waitForReady"],
  ["an own __proto__ key", protoKey({}), "__proto__"],
  // read under a guard: never a throw out of the call method
  ["a Metadata whose getMap throws", { metadata: throwingGetMap }, "metadata"],
  ["a Date whose getTime throws", { deadline: throwingGetTime }, "deadline"],
  // HTTP/2 connection-specific headers: Node's http2 refuses the request, the call would never settle
  ["a connection header", { metadata: { connection: "close" } }, "connection"],
  ["a transfer-encoding header", { metadata: { "transfer-encoding": "chunked" } }, "transfer-encoding"],
  ["a keep-alive header", { metadata: { "keep-alive": "timeout=5" } }, "keep-alive"],
  ["an upgrade header", { metadata: { upgrade: "h2c" } }, "upgrade"],
  ["a proxy-connection header", { metadata: { "proxy-connection": "keep-alive" } }, "proxy-connection"],
  ["te other than trailers", { metadata: { te: "gzip" } }, "te"]
]

describe("GrpcPool hostile input", () => {
  it.effect("options a user's getter or Proxy throws on reading are a PoolConfigError naming them, never a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [object, string]> = [
        [throwingGetter({ target: "127.0.0.1:1", credentials: insecure }, "maxChannels"), "maxChannels"],
        [throwingGetter({ target: "127.0.0.1:1", credentials: insecure }, "name"), "name"],
        [{ target: "127.0.0.1:1", channelOptions: throwingGetter({}, "grpc.keepalive_time_ms") }, "channelOptions[\"grpc.keepalive_time_ms\"]"],
        [{ target: "127.0.0.1:1", keepalive: throwingGetter({}, "time") }, "keepalive.time"],
        [throwingKeys({ target: "127.0.0.1:1", credentials: insecure }), "options"],
        // a Proxy that throws on reading any key it does not list: options are read from the copy
        [throwingReads({ target: "127.0.0.1:1", credentials: insecure, maxChannels: 0 }), "maxChannels"],
        [protoKey({ target: "127.0.0.1:1", credentials: insecure }), "__proto__"],
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(GrpcPool.make(options as GrpcPool.Options)))
        expect(error._tag, option).toBe("PoolConfigError")
        expect((error as { readonly option: string }).option, option).toBe(option)
      }
    }))

  it.effect("every bad option fails make with PoolConfigError naming it", () =>
    Effect.gen(function*() {
      for (const [label, options, option] of optionCases) {
        const exit = yield* Effect.exit(Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", credentials: insecure, ...options } as any)))
        const failure = Exit.isSuccess(exit) ? undefined : Cause.findErrorOption(exit.cause)
        if (failure === undefined || Option.isNone(failure)) throw new Error(`${label}: expected a PoolConfigError, got ${Exit.isSuccess(exit) ? "a pool" : Cause.pretty(exit.cause)}`)
        const error = failure.value
        expect(error, label).toBeInstanceOf(PoolConfigError)
        expect(error.option, label).toBe(option)
      }
      const near = yield* Effect.flip(Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", maxChanels: 4 } as any)))
      expect(near.reason).toMatch(/did you mean "maxChannels"/)
      const alias = yield* Effect.flip(Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", maxSize: 4 } as any)))
      expect(alias.reason).toMatch(/use "maxChannels"/)
      const notOptions = yield* Effect.flip(Effect.scoped(GrpcPool.make(null as any)))
      expect(notOptions).toBeInstanceOf(PoolConfigError)
    }))

  it.live("0, Infinity and durations past the timer limit are accepted where they have a meaning", () =>
    Effect.gen(function*() {
      const huge = 2 ** 31 * 10
      for (const options of [
        { acquireTimeout: Infinity, idleTimeout: Infinity, shutdownTimeout: 0, maxAge: Infinity, connectTimeout: Infinity },
        { acquireTimeout: huge, idleTimeout: huge, maxAge: huge, connectTimeout: huge, keepalive: { time: huge, timeout: huge } },
        { keepalive: { time: Infinity, timeout: Infinity }, healthCheck: { timeout: Infinity, schedule: Schedule.spaced("1 hour") } },
        { minChannels: 0, targetUtilization: 1, maxAgeJitter: 0 }
      ]) {
        yield* Effect.scoped(GrpcPool.make({ target: "127.0.0.1:1", credentials: insecure, minChannels: 0, ...options }))
      }
    }))

  it.live("durations past the timer limit never fire at once: a call waits, it is not timed out", () =>
    Effect.gen(function*() {
      const { target, proxy } = yield* serverBehindProxy()
      proxy.refuseNew(true)
      const pool = yield* GrpcPool.make({ target, credentials: insecure, minChannels: 0, acquireTimeout: 2 ** 31 * 2, connectTimeout: 2 ** 31 * 2 })
      const fiber = yield* Effect.forkChild(echoClient(pool).unary({ text: "x" }, { waitForReady: true }))
      yield* eventually("the call waits for a channel", Effect.map(GrpcPool.stats(pool), (s) => s.pool.waiting === 1))
      yield* Effect.sleep("200 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.scoped))

  it.live("every bad call argument on every call kind: INVALID_ARGUMENT naming it, nothing borrowed, the pool fine after", () =>
    Effect.gen(function*() {
      const { target, server } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1, maxConcurrentStreamsPerChannel: 2 })
      const echo = echoClient(pool)
      yield* echo.unary({ text: "warm" })
      const before = server.calls.unary ?? 0
      for (const [label, options, named] of badCallOptions) {
        const kinds: Record<string, Effect.Effect<unknown, unknown>> = {
          unary: echo.unary({ text: "x" }, options as any),
          serverStream: Stream.runDrain(echo.serverStream({ text: "x", n: 1 }, options as any)),
          clientStream: echo.clientStream(Stream.make({ text: "x" }), options as any),
          bidi: Stream.runDrain(echo.bidi(Stream.make({ text: "x" }), options as any))
        }
        for (const [kind, call] of Object.entries(kinds)) {
          const exit = yield* Effect.exit(call)
          const failure = Exit.isSuccess(exit) ? undefined : Cause.findErrorOption(exit.cause)
          if (failure === undefined || Option.isNone(failure)) throw new Error(`${kind}, ${label}: expected a GrpcError, got ${Exit.isSuccess(exit) ? "success" : Cause.pretty(exit.cause)}`)
          expect(failure.value, `${kind}, ${label}`).toMatchObject({ _tag: "GrpcError", code: grpc.status.INVALID_ARGUMENT })
          expect((failure.value as { details: string }).details, `${kind}, ${label}`).toContain(named)
        }
      }
      expect(server.calls.unary ?? 0).toBe(before)
      yield* idle(pool)
      expect((yield* GrpcPool.stats(pool)).pool.borrows).toBe(1)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("a deadline or timeout past grpc-js's limit (10^8 hours from now) is none: every call kind succeeds, nothing thrown inside grpc-js", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      for (const options of [{ deadline: new Date(8.64e15) }, { deadline: 8.64e15 }, { timeout: 5e14 }, { timeout: "175200000 hours" as const }] as Array<GrpcPool.CallOptions>) {
        const label = JSON.stringify(options)
        // a call that never settled would hang here: bounded, so the test fails instead
        const results = yield* Effect.all([
          echo.unary({ text: "x" }, options),
          Stream.runCollect(echo.serverStream({ text: "x", n: 2 }, options)),
          echo.clientStream(Stream.make({ text: "a" }, { text: "b" }), options),
          Stream.runCollect(echo.bidi(Stream.make({ text: "x" }), options)),
          echo.unary({ text: "x" }, { ...options, interceptors: [(o, next) => new grpc.InterceptingCall(next(o))] })
        ]).pipe(Effect.timeout("5 seconds"))
        expect(results[0].text, label).toBe("echo: x")
        expect(results[4].text, label).toBe("echo: x")
      }
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("callbacks that throw null or a value whose toString throws: INTERNAL naming it, never a throw inside grpc-js, the slot back", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      const unprintable = { toString: () => { throw new Error("not printable") } }
      const passThrough = [(o: grpc.InterceptorOptions, next: grpc.NextCall) => new grpc.InterceptingCall(next(o))]
      for (const intercepted of [false, true]) {
        const extra = intercepted ? { interceptors: passThrough } : {}
        for (const [thrown, said] of [[unprintable, "an object that cannot be printed"], [null, "null"]] as const) {
          for (const callback of ["onMetadata", "onStatus"] as const) {
            const label = `${callback} throwing ${said}${intercepted ? ", intercepted" : ""}`
            const error = yield* Effect.flip(echo.unary({ text: "x" }, { ...extra, [callback]: () => { throw thrown } }).pipe(Effect.timeout("5 seconds")))
            expect(error, label).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL, details: `${callback} threw: ${said}` })
          }
        }
      }
      yield* idle(pool)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("a streaming call's onStatus or onMetadata that throws fails it CANCELLED naming the callback (not ignored), slot back", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      for (const callback of ["onStatus", "onMetadata"] as const) {
        const options = { [callback]: () => { throw new Error("bad listener") } }
        const kinds: Record<string, Effect.Effect<unknown, unknown>> = {
          serverStream: Stream.runDrain(echo.serverStream({ text: "x", n: 3 }, options)),
          clientStream: echo.clientStream(Stream.make({ text: "x" }), options),
          bidi: Stream.runDrain(echo.bidi(Stream.make({ text: "x" }), options))
        }
        for (const [kind, call] of Object.entries(kinds)) {
          const error = yield* Effect.flip(call.pipe(Effect.timeout("5 seconds")))
          expect(error, `${kind}, ${callback}`).toMatchObject({ _tag: "GrpcError", code: grpc.status.CANCELLED, details: `${callback} threw: bad listener` })
        }
      }
      // a failing status stays the server's (onStatus's throw does not hide it)
      const failed = yield* Effect.flip(Stream.runDrain(echo.serverStream({ text: "gone", n: 1, code: grpc.status.NOT_FOUND }, { onStatus: () => { throw new Error("bad listener") } })))
      expect(failed).toMatchObject({ _tag: "GrpcError", code: grpc.status.NOT_FOUND })
      yield* idle(pool)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("a request message that cannot be written (null, an interceptor's sendMessage throwing): INTERNAL naming it, the call cancelled, slot back", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      const requests = [Stream.make(null as never), Stream.make({ text: "a" }, null as never)]
      for (const [i, req] of requests.entries()) {
        const client = yield* Effect.flip(echo.clientStream(req).pipe(Effect.timeout("5 seconds")))
        expect(client, `clientStream ${i}`).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
        expect((client as { details: string }).details).toMatch(/^Request message serialization failure: .*null/)
        const bidi = yield* Effect.flip(Stream.runDrain(echo.bidi(req)).pipe(Effect.timeout("5 seconds")))
        expect(bidi, `bidi ${i}`).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
        expect((bidi as { details: string }).details).toMatch(/^Request message serialization failure: .*null/)
      }
      const throwing = { interceptors: [(o: grpc.InterceptorOptions, next: grpc.NextCall) => new grpc.InterceptingCall(next(o), { sendMessage() { throw new Error("cannot send") } })] }
      // one message (sent at once) and many (buffered by Node's stream, sent later from a grpc-js callback)
      const many = Stream.fromIterable(Array.from({ length: 40 }, (_, i) => ({ text: `m${i}` })))
      for (const req of [Stream.make({ text: "a" }), many]) {
        const kinds: Record<string, Effect.Effect<unknown, unknown>> = {
          clientStream: echo.clientStream(req, throwing),
          bidi: Stream.runDrain(echo.bidi(req, throwing)),
          unary: echo.unary({ text: "x" }, throwing),
          serverStream: Stream.runDrain(echo.serverStream({ text: "x", n: 1 }, throwing))
        }
        for (const [kind, call] of Object.entries(kinds)) {
          const error = yield* Effect.flip(call.pipe(Effect.timeout("5 seconds")))
          expect(error, kind).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
          expect((error as { details: string }).details, kind).toMatch(/cannot send/)
        }
      }
      yield* idle(pool)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("a failing request Stream fails a bidi call with its own error (the call cancelled)", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      const boom = new GrpcError({ code: grpc.status.ABORTED, details: "request source failed", metadata: undefined, message: "ABORTED: request source failed" })
      const error = yield* Effect.flip(Stream.runDrain(echo.bidi(Stream.concat(Stream.make({ text: "a" }), Stream.fail(boom)))).pipe(Effect.timeout("5 seconds")))
      expect(error).toBe(boom)
      yield* idle(pool)
    }).pipe(Effect.scoped))

  it.live("an interceptor that never starts the call (grpc-js then never reports its status): interruption frees the slot, every call kind", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      const neverStarts = { interceptors: [(o: grpc.InterceptorOptions, next: grpc.NextCall) => new grpc.InterceptingCall(next(o), { start() {} })] }
      const kinds: Record<string, Effect.Effect<unknown, unknown>> = {
        unary: echo.unary({ text: "x" }, neverStarts),
        serverStream: Stream.runDrain(echo.serverStream({ text: "x", n: 1 }, neverStarts)),
        clientStream: echo.clientStream(Stream.make({ text: "x" }), neverStarts),
        bidi: Stream.runDrain(echo.bidi(Stream.make({ text: "x" }), neverStarts))
      }
      for (const [kind, call] of Object.entries(kinds)) {
        for (let i = 0; i < 2; i++) {
          const exit = yield* Effect.exit(call.pipe(Effect.timeout("200 millis")))
          expect(Exit.isFailure(exit), kind).toBe(true)
          yield* idle(pool)
        }
      }
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("more bad calls than streams, queued behind busy streams and waiting for a channel being created: typed, no leaked slot", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, minChannels: 0, maxChannels: 1, maxConcurrentStreamsPerChannel: 1, acquireTimeout: "5 seconds" })
      const echo = echoClient(pool)
      // while the only channel is being created
      const early = yield* Effect.forEach(Array.from({ length: 3 }), () => Effect.flip(echo.unary({ text: "x" }, { metadata: { "Bad Key!": "x" } })), { concurrency: "unbounded" })
      expect(early.map((e) => e._tag)).toEqual(["GrpcError", "GrpcError", "GrpcError"])
      // while its one stream is busy
      const busy = yield* Effect.forkChild(echo.unary({ text: "busy", delayMs: 300 }))
      for (let i = 0; i < 5; i++) {
        const error = yield* Effect.flip(echo.unary({ text: "x" }, { timeout: "nonsense" as any }))
        expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.INVALID_ARGUMENT })
      }
      expect((yield* Fiber.join(busy)).text).toBe("echo: busy")
      yield* idle(pool)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))

  it.live("a message that fails to serialize, and callbacks that throw: typed errors, slots back", () =>
    Effect.gen(function*() {
      const { target } = yield* serverBehindProxy()
      const pool = yield* GrpcPool.make({ target, credentials: insecure, maxChannels: 1 })
      const echo = echoClient(pool)
      const Broken = grpc.makeGenericClientConstructor(Object.fromEntries(Object.entries(Echo.service).map(([k, d]) => [k, { ...d, requestSerialize: () => { throw new Error("cannot encode") } }])), "Echo")
      const broken = GrpcPool.client<typeof echo>(pool, Broken)
      const results = [
        yield* Effect.flip(broken.unary({ text: "x" })),
        yield* Effect.flip(Stream.runDrain(broken.serverStream({ text: "x", n: 1 }))),
        yield* Effect.flip(broken.clientStream(Stream.make({ text: "x" }))),
        yield* Effect.flip(Stream.runDrain(broken.bidi(Stream.make({ text: "x" }))))
      ]
      for (const error of results) expect(error).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      const thrown = yield* Effect.flip(echo.unary({ text: "x" }, { onMetadata: () => { throw new Error("bad listener") } }))
      expect(thrown).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      const thrownStatus = yield* Effect.flip(echo.unary({ text: "x" }, { onStatus: () => { throw new Error("bad listener") } }))
      expect(thrownStatus).toMatchObject({ _tag: "GrpcError", code: grpc.status.INTERNAL })
      const streamed = yield* Effect.exit(Stream.runDrain(echo.serverStream({ text: "x", n: 3 }, { onMetadata: () => { throw new Error("bad listener") } })))
      expect(Exit.isFailure(streamed)).toBe(true)
      yield* Effect.exit(echo.clientStream(Stream.make({ text: "x" }), { onStatus: () => { throw new Error("bad listener") } }))
      yield* idle(pool)
      expect((yield* echo.unary({ text: "after" })).text).toBe("echo: after")
    }).pipe(Effect.scoped))
})

describe("options that are not an object", () => {
  it.effect("GrpcPool.make with undefined, null, 5 or an array is a PoolConfigError naming options, not a defect", () =>
    Effect.gen(function*() {
      for (const given of [undefined, null, 5, [1]]) {
        const error = yield* Effect.flip(Effect.scoped(GrpcPool.make(given as never)))
        expect(error).toBeInstanceOf(PoolConfigError)
        expect((error as PoolConfigError).option).toBe("options")
      }
    }))
})
