/**
 * gRPC interop cases (grpc/grpc doc/interop-test-descriptions.md) through `GrpcPool.client`,
 * against an interop server (the test kit's packages/testing/interop/server.mjs) in a child process; the same cases through a bare
 * grpc-js generated client as a control (it shows the cases and the server are right).
 *
 * Each case follows the description's client procedure and asserts what it asserts. Where the
 * description says "the call completed with status CANCELLED" and the client is an Effect (whose
 * cancelled call is an interrupted fiber, or a response stream ended early), the case asserts that
 * the cancelled call completes within 5 s, the fiber interrupted, and that the pool holds no call
 * afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { GrpcError, GrpcPool } from "@effect-pool/grpc"
import * as grpc from "@grpc/grpc-js"
import { Chunk, Duration, Effect, Exit, Fiber, Stream } from "effect"
import { type InteropServer, loadTestProto, startInteropServer } from "@effect-pool/testing"

const { TestService, UnimplementedService } = loadTestProto()

interface Payload {
  readonly type?: string
  readonly body: Buffer
}
interface SimpleRequest {
  readonly response_size?: number
  readonly payload?: Payload
  readonly response_status?: { readonly code: number; readonly message: string }
  readonly expect_compressed?: { readonly value: boolean }
}
interface SimpleResponse {
  readonly payload: Payload | null
}
interface StreamingInputCallRequest {
  readonly payload?: Payload
  readonly expect_compressed?: { readonly value: boolean }
}
interface StreamingInputCallResponse {
  readonly aggregated_payload_size: number
}
interface StreamingOutputCallRequest {
  readonly response_parameters?: ReadonlyArray<{ readonly size: number; readonly interval_us?: number }>
  readonly payload?: Payload
  readonly response_status?: { readonly code: number; readonly message: string }
}
interface StreamingOutputCallResponse {
  readonly payload: Payload | null
}
type Empty = Record<string, never>

/** grpc.testing.TestService as the pool's client has it. */
interface TestServiceApi {
  readonly EmptyCall: GrpcPool.Unary<Empty, Empty>
  readonly UnaryCall: GrpcPool.Unary<SimpleRequest, SimpleResponse>
  readonly StreamingOutputCall: GrpcPool.ServerStreaming<StreamingOutputCallRequest, StreamingOutputCallResponse>
  readonly StreamingInputCall: GrpcPool.ClientStreaming<StreamingInputCallRequest, StreamingInputCallResponse>
  readonly FullDuplexCall: GrpcPool.Bidi<StreamingOutputCallRequest, StreamingOutputCallResponse>
  readonly UnimplementedCall: GrpcPool.Unary<Empty, Empty>
}
interface UnimplementedServiceApi {
  readonly UnimplementedCall: GrpcPool.Unary<Empty, Empty>
}

/**
 * The per-call observers the pool's client is getting (fix/grpc): the initial metadata of a call
 * when it arrives, and its final status with the trailing metadata. custom_metadata needs them to
 * read the metadata of a call that succeeded.
 */
interface Observers {
  readonly onMetadata?: (metadata: grpc.Metadata) => void
  readonly onStatus?: (status: grpc.StatusObject) => void
}
const withObservers = (options: GrpcPool.CallOptions, observers: Observers): GrpcPool.CallOptions => Object.assign({}, options, observers)

const zeros = (size: number): Payload => ({ body: Buffer.alloc(size) })
const isZeros = (body: Buffer | undefined, size: number) => body !== undefined && body.length === size && body.every((b) => b === 0)
const payloadSizes = (responses: ReadonlyArray<StreamingOutputCallResponse>) => responses.map((r) => r.payload?.body.length)

const ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
const ECHO_INITIAL_VALUE = "test_initial_metadata_value"
const ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
const ECHO_TRAILING_VALUE = Buffer.from([0xab, 0xab, 0xab])
const customMetadata = () => {
  const metadata = new grpc.Metadata()
  metadata.set(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE)
  metadata.set(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE)
  return metadata
}
const SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"

let server: InteropServer
beforeAll(async () => {
  server = await startInteropServer()
})
afterAll(async () => {
  await server?.close()
})

/** A pool on the interop server, closed with the scope; `compressed`: gzip on every request. */
const pool = (compressed = false) =>
  GrpcPool.make({
    target: server.target,
    minChannels: 1,
    maxChannels: 2,
    // a call that never completes fails its case, not the run: the pool closes 1 s after the case
    shutdownTimeout: "1 second",
    ...(compressed ? { channelOptions: { "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip } } : {})
  })
const clients = (compressed = false) =>
  Effect.map(pool(compressed), (p) => ({
    pool: p,
    test: GrpcPool.client<TestServiceApi>(p, TestService),
    unimplemented: GrpcPool.client<UnimplementedServiceApi>(p, UnimplementedService)
  }))

const grpcError = <A, R>(effect: Effect.Effect<A, unknown, R>) =>
  Effect.flatMap(Effect.flip(effect), (error) => {
    expect(error).toBeInstanceOf(GrpcError)
    return Effect.succeed(error as GrpcError)
  })

/** No call left on any of the pool's channels. */
const noCallsLeft = (p: GrpcPool.GrpcPool) =>
  Effect.gen(function*() {
    for (let i = 0; i < 100; i++) {
      const { channels } = yield* GrpcPool.stats(p)
      if (channels.every((c) => c.activeCalls === 0)) return
      yield* Effect.sleep("20 millis")
    }
    expect((yield* GrpcPool.stats(p)).channels.map((c) => c.activeCalls)).toEqual([0])
  })

describe("interop cases through GrpcPool.client", () => {
  it.live("empty_unary", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const response = yield* test.EmptyCall({})
      expect(response).not.toBeNull()
      expect(response).toEqual({})
    }).pipe(Effect.scoped))

  it.live("large_unary", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const response = yield* test.UnaryCall({ response_size: 314159, payload: zeros(271828) })
      expect(response.payload?.body.length).toBe(314159)
      expect(isZeros(response.payload?.body, 314159)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("client_compressed_unary", () =>
    Effect.gen(function*() {
      // one pool whose channels gzip; per call, `compress: false` sends the request uncompressed
      const { test } = yield* clients(true)
      const request = (expectCompressed: boolean): SimpleRequest => ({
        expect_compressed: { value: expectCompressed },
        response_size: 314159,
        payload: zeros(271828)
      })
      // 1. the feature probe, uncompressed: INVALID_ARGUMENT
      const probe = yield* grpcError(test.UnaryCall(request(true), { compress: false }))
      expect(probe.code).toBe(grpc.status.INVALID_ARGUMENT)
      // 2. compressed
      const compressed = yield* test.UnaryCall(request(true))
      expect(isZeros(compressed.payload?.body, 314159)).toBe(true)
      // 3. uncompressed
      const uncompressed = yield* test.UnaryCall(request(false), { compress: false })
      expect(isZeros(uncompressed.payload?.body, 314159)).toBe(true)
      // (the server checks each message's compressed flag: one that came compressed is refused)
      const refused = yield* grpcError(test.UnaryCall(request(false)))
      expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT)
    }).pipe(Effect.scoped))

  it.live("per-call compression on streams and with interceptors: compress: false sends every message uncompressed", () =>
    Effect.gen(function*() {
      const { test } = yield* clients(true)
      const requests = (compressed: boolean) =>
        Stream.fromIterable([27182, 8, 1828].map((size) => ({ payload: zeros(size), expect_compressed: { value: compressed } })))
      expect((yield* test.StreamingInputCall(requests(true))).aggregated_payload_size).toBe(29018)
      expect((yield* test.StreamingInputCall(requests(false), { compress: false })).aggregated_payload_size).toBe(29018)
      expect((yield* grpcError(test.StreamingInputCall(requests(false)))).code).toBe(grpc.status.INVALID_ARGUMENT)
      // through the Client path a unary call takes with interceptors
      let intercepted = 0
      const interceptors: Array<grpc.Interceptor> = [(options, next) => {
        intercepted++
        return new grpc.InterceptingCall(next(options))
      }]
      const request = (value: boolean): SimpleRequest => ({ expect_compressed: { value }, response_size: 10, payload: zeros(271828) })
      yield* test.UnaryCall(request(false), { compress: false, interceptors })
      yield* test.UnaryCall(request(true), { interceptors })
      expect(intercepted).toBe(2)
    }).pipe(Effect.scoped))

  it.live("server_streaming", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const responses = yield* Stream.runCollect(
        test.StreamingOutputCall({ response_parameters: [{ size: 31415 }, { size: 9 }, { size: 2653 }, { size: 58979 }] })
      )
      const all = Chunk.toArray(responses)
      expect(all).toHaveLength(4)
      expect(payloadSizes(all)).toEqual([31415, 9, 2653, 58979])
      expect(all.every((r) => isZeros(r.payload?.body, r.payload?.body.length ?? -1))).toBe(true)
    }).pipe(Effect.scoped))

  it.live("client_streaming", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const response = yield* test.StreamingInputCall(Stream.fromIterable([27182, 8, 1828, 45904].map((size) => ({ payload: zeros(size) }))))
      expect(response.aggregated_payload_size).toBe(74922)
    }).pipe(Effect.scoped))

  it.live("ping_pong", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const steps = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]] as const
      // each request is sent only after the reply to the previous one: the requests are a Stream
      // fed by the responses
      const replies: Array<StreamingOutputCallResponse> = []
      const sent: Array<number> = []
      let nextRequest: ((request: StreamingOutputCallRequest | undefined) => void) | undefined
      const requests = Stream.async<StreamingOutputCallRequest>((emit) => {
        nextRequest = (request) => void (request === undefined ? emit.end() : emit.single(request))
      })
      const send = (i: number) => {
        sent.push(i)
        const [size, body] = steps[i]!
        nextRequest!({ response_parameters: [{ size }], payload: zeros(body) })
      }
      const responses = test.FullDuplexCall(requests).pipe(
        Stream.tap((reply) =>
          Effect.sync(() => {
            replies.push(reply)
            // 5. after the fourth reply, half-close
            if (replies.length < steps.length) send(replies.length)
            else nextRequest!(undefined)
          })
        )
      )
      const fiber = yield* Effect.fork(Stream.runDrain(responses))
      while (nextRequest === undefined) yield* Effect.sleep("1 millis")
      send(0)
      yield* Fiber.join(fiber)
      expect(sent).toEqual([0, 1, 2, 3])
      expect(replies).toHaveLength(4)
      expect(payloadSizes(replies)).toEqual([31415, 9, 2653, 58979])
    }).pipe(Effect.scoped))

  it.live("empty_stream", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const responses = yield* Stream.runCollect(test.FullDuplexCall(Stream.empty))
      expect(Chunk.size(responses)).toBe(0)
    }).pipe(Effect.scoped))

  it.live("custom_metadata", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      // what each call received: initial metadata and trailing metadata
      const observe = () => {
        const seen: { initial: Array<grpc.Metadata>; trailing: Array<grpc.Metadata> } = { initial: [], trailing: [] }
        const observers: Observers = {
          onMetadata: (metadata) => void seen.initial.push(metadata),
          onStatus: (status) => void seen.trailing.push(status.metadata)
        }
        return { seen, observers }
      }
      const check = (seen: { initial: Array<grpc.Metadata>; trailing: Array<grpc.Metadata> }) => {
        expect(seen.initial.map((m) => m.get(ECHO_INITIAL_KEY))).toEqual([[ECHO_INITIAL_VALUE]])
        expect(seen.trailing.map((m) => m.get(ECHO_TRAILING_KEY))).toEqual([[ECHO_TRAILING_VALUE]])
      }
      // 1. UnaryCall
      const unary = observe()
      const response = yield* test.UnaryCall({ response_size: 314159, payload: zeros(271828) }, withObservers({ metadata: customMetadata() }, unary.observers))
      expect(response.payload?.body.length).toBe(314159)
      check(unary.seen)
      // 2. FullDuplexCall, then half-close
      const duplex = observe()
      const responses = yield* Stream.runCollect(
        test.FullDuplexCall(
          Stream.make({ response_parameters: [{ size: 314159 }], payload: zeros(271828) }),
          withObservers({ metadata: customMetadata() }, duplex.observers)
        )
      )
      expect(payloadSizes(Chunk.toArray(responses))).toEqual([314159])
      check(duplex.seen)
    }).pipe(Effect.scoped))

  it.live("status_code_and_message", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const response_status = { code: 2, message: "test status message" }
      const unary = yield* grpcError(test.UnaryCall({ response_status }))
      expect(unary.code).toBe(2)
      expect(unary.details).toBe("test status message")
      const duplex = yield* grpcError(Stream.runCollect(test.FullDuplexCall(Stream.make({ response_status }))))
      expect(duplex.code).toBe(2)
      expect(duplex.details).toBe("test status message")
    }).pipe(Effect.scoped))

  it.live("special_status_message", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      const error = yield* grpcError(test.UnaryCall({ response_status: { code: 2, message: SPECIAL_MESSAGE } }))
      expect(error.code).toBe(2)
      expect(error.details).toBe(SPECIAL_MESSAGE)
    }).pipe(Effect.scoped))

  it.live("unimplemented_method", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      expect((yield* grpcError(test.UnimplementedCall({}))).code).toBe(grpc.status.UNIMPLEMENTED)
    }).pipe(Effect.scoped))

  it.live("unimplemented_service", () =>
    Effect.gen(function*() {
      const { unimplemented } = yield* clients()
      expect((yield* grpcError(unimplemented.UnimplementedCall({}))).code).toBe(grpc.status.UNIMPLEMENTED)
    }).pipe(Effect.scoped))

  it.live("cancel_after_begin", () =>
    Effect.gen(function*() {
      const { pool, test } = yield* clients()
      const mark = server.events.length
      // 1. start StreamingInputCall (no request sent: its requests never come)
      // (a daemon: a call that never completes fails this case at its 5 s limit below, not the run)
      const fiber = yield* Effect.forkDaemon(test.StreamingInputCall(Stream.never))
      // its metadata has reached the server
      yield* Effect.promise(() => server.waitFor((e) => e.event === "started" && e.method === "StreamingInputCall", mark))
      // 2. cancel it: the call completes, CANCELLED
      yield* Fiber.interruptFork(fiber)
      const exit = yield* Fiber.await(fiber).pipe(
        Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => new Error("the cancelled call did not complete within 5 s") })
      )
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* noCallsLeft(pool)
    }).pipe(Effect.scoped))

  it.live("cancel_after_first_response", () =>
    Effect.gen(function*() {
      const { pool, test } = yield* clients()
      // 1. start FullDuplexCall with one request (and no half-close)
      const requests = Stream.concat(Stream.make({ response_parameters: [{ size: 31415 }], payload: zeros(27182) }), Stream.never)
      // 2. after receiving a response, cancel (ending the response stream cancels the call)
      const first = yield* Stream.runCollect(Stream.take(test.FullDuplexCall(requests), 1))
      expect(payloadSizes(Chunk.toArray(first))).toEqual([31415])
      yield* noCallsLeft(pool)
    }).pipe(Effect.scoped))

  it.live("timeout_on_sleeping_server", () =>
    Effect.gen(function*() {
      const { test } = yield* clients()
      // 1. FullDuplexCall with a 1 ms timeout and one request; 2. wait (no half-close)
      const requests = Stream.concat(Stream.make({ payload: zeros(27182) }), Stream.never)
      const error = yield* grpcError(Stream.runCollect(test.FullDuplexCall(requests, { timeout: "1 millis" })))
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED)
    }).pipe(Effect.scoped))
})

// ---------------------------------------------------------------------------------------------
// The control: the same cases through a bare grpc-js generated client.

type Bare = grpc.Client & Record<string, (...args: Array<any>) => any>

const bare = (compressed = false): { test: Bare; unimplemented: Bare; close: () => void } => {
  const options: grpc.ChannelOptions = compressed ? { "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip } : {}
  const test = new TestService(server.target, grpc.credentials.createInsecure(), options) as unknown as Bare
  const unimplemented = new UnimplementedService(server.target, grpc.credentials.createInsecure(), options) as unknown as Bare
  return {
    test,
    unimplemented,
    close: () => {
      test.close()
      unimplemented.close()
    }
  }
}

/** A unary call's outcome: its response or error, its initial metadata, its status. */
const unaryCall = (client: Bare, method: string, request: unknown, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) =>
  new Promise<{ error: grpc.ServiceError | null; response: any; initial: grpc.Metadata | undefined; status: grpc.StatusObject }>((resolve) => {
    let error: grpc.ServiceError | null = null
    let response: any
    let initial: grpc.Metadata | undefined
    const call = client[method]!(request, metadata, options, (e: grpc.ServiceError | null, r: unknown) => {
      error = e
      response = r
    }) as grpc.ClientUnaryCall
    call.on("metadata", (m: grpc.Metadata) => (initial = m))
    call.on("status", (status: grpc.StatusObject) => setImmediate(() => resolve({ error, response, initial, status })))
  })

/** A streaming call's responses and status (whether it failed or not). */
const collect = (call: grpc.ClientReadableStream<any> | grpc.ClientDuplexStream<any, any>) =>
  new Promise<{ responses: Array<any>; initial: grpc.Metadata | undefined; status: grpc.StatusObject }>((resolve) => {
    const responses: Array<any> = []
    let initial: grpc.Metadata | undefined
    call.on("data", (r) => responses.push(r))
    call.on("metadata", (m: grpc.Metadata) => (initial = m))
    call.on("error", () => {})
    call.on("status", (status: grpc.StatusObject) => resolve({ responses, initial, status }))
  })

const controlCase = (name: string, body: (c: ReturnType<typeof bare>) => Promise<void>, compressed = false) =>
  it(name, async () => {
    const c = bare(compressed)
    try {
      await body(c)
    } finally {
      c.close()
    }
  })

describe("control: the same cases through a bare grpc-js client", () => {
  controlCase("empty_unary", async ({ test }) => {
    const { error, response } = await unaryCall(test, "EmptyCall", {})
    expect(error).toBeNull()
    expect(response).toEqual({})
  })

  controlCase("large_unary", async ({ test }) => {
    const { error, response } = await unaryCall(test, "UnaryCall", { response_size: 314159, payload: zeros(271828) })
    expect(error).toBeNull()
    expect(isZeros(response.payload.body, 314159)).toBe(true)
  })

  it("client_compressed_unary", async () => {
    const plain = bare()
    const gzip = bare(true)
    try {
      const request = (value: boolean) => ({ expect_compressed: { value }, response_size: 314159, payload: zeros(271828) })
      expect((await unaryCall(plain.test, "UnaryCall", request(true))).error?.code).toBe(grpc.status.INVALID_ARGUMENT)
      const compressed = await unaryCall(gzip.test, "UnaryCall", request(true))
      expect(compressed.error).toBeNull()
      expect(isZeros(compressed.response.payload.body, 314159)).toBe(true)
      const uncompressed = await unaryCall(plain.test, "UnaryCall", request(false))
      expect(uncompressed.error).toBeNull()
      expect(isZeros(uncompressed.response.payload.body, 314159)).toBe(true)
    } finally {
      plain.close()
      gzip.close()
    }
  })

  controlCase("server_streaming", async ({ test }) => {
    const call = test.StreamingOutputCall!({ response_parameters: [{ size: 31415 }, { size: 9 }, { size: 2653 }, { size: 58979 }] })
    const { responses, status } = await collect(call)
    expect(status.code).toBe(grpc.status.OK)
    expect(payloadSizes(responses)).toEqual([31415, 9, 2653, 58979])
  })

  controlCase("client_streaming", async ({ test }) => {
    const result = await new Promise<{ error: grpc.ServiceError | null; response: any }>((resolve) => {
      const call = test.StreamingInputCall!((error: grpc.ServiceError | null, response: unknown) => resolve({ error, response }))
      for (const size of [27182, 8, 1828, 45904]) call.write({ payload: zeros(size) })
      call.end()
    })
    expect(result.error).toBeNull()
    expect(result.response.aggregated_payload_size).toBe(74922)
  })

  controlCase("ping_pong", async ({ test }) => {
    const steps = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]] as const
    const call = test.FullDuplexCall!() as grpc.ClientDuplexStream<any, any>
    const send = (i: number) => call.write({ response_parameters: [{ size: steps[i]![0] }], payload: zeros(steps[i]![1]) })
    const result = collect(call)
    let replies = 0
    call.on("data", () => {
      replies++
      if (replies < steps.length) send(replies)
      else call.end()
    })
    send(0)
    const { responses, status } = await result
    expect(status.code).toBe(grpc.status.OK)
    expect(payloadSizes(responses)).toEqual([31415, 9, 2653, 58979])
  })

  controlCase("empty_stream", async ({ test }) => {
    const call = test.FullDuplexCall!() as grpc.ClientDuplexStream<any, any>
    const result = collect(call)
    call.end()
    const { responses, status } = await result
    expect(status.code).toBe(grpc.status.OK)
    expect(responses).toHaveLength(0)
  })

  controlCase("custom_metadata", async ({ test }) => {
    const unary = await unaryCall(test, "UnaryCall", { response_size: 314159, payload: zeros(271828) }, customMetadata())
    expect(unary.error).toBeNull()
    expect(unary.initial?.get(ECHO_INITIAL_KEY)).toEqual([ECHO_INITIAL_VALUE])
    expect(unary.status.metadata.get(ECHO_TRAILING_KEY)).toEqual([ECHO_TRAILING_VALUE])
    const call = test.FullDuplexCall!(customMetadata()) as grpc.ClientDuplexStream<any, any>
    const result = collect(call)
    call.write({ response_parameters: [{ size: 314159 }], payload: zeros(271828) })
    call.end()
    const duplex = await result
    expect(duplex.status.code).toBe(grpc.status.OK)
    expect(duplex.initial?.get(ECHO_INITIAL_KEY)).toEqual([ECHO_INITIAL_VALUE])
    expect(duplex.status.metadata.get(ECHO_TRAILING_KEY)).toEqual([ECHO_TRAILING_VALUE])
  })

  controlCase("status_code_and_message", async ({ test }) => {
    const response_status = { code: 2, message: "test status message" }
    const unary = await unaryCall(test, "UnaryCall", { response_status })
    expect(unary.error).toMatchObject({ code: 2, details: "test status message" })
    const call = test.FullDuplexCall!() as grpc.ClientDuplexStream<any, any>
    const result = collect(call)
    call.write({ response_status })
    call.end()
    expect((await result).status).toMatchObject({ code: 2, details: "test status message" })
  })

  controlCase("special_status_message", async ({ test }) => {
    const unary = await unaryCall(test, "UnaryCall", { response_status: { code: 2, message: SPECIAL_MESSAGE } })
    expect(unary.error).toMatchObject({ code: 2, details: SPECIAL_MESSAGE })
  })

  controlCase("unimplemented_method", async ({ test }) => {
    expect((await unaryCall(test, "UnimplementedCall", {})).error?.code).toBe(grpc.status.UNIMPLEMENTED)
  })

  controlCase("unimplemented_service", async ({ unimplemented }) => {
    expect((await unaryCall(unimplemented, "UnimplementedCall", {})).error?.code).toBe(grpc.status.UNIMPLEMENTED)
  })

  controlCase("cancel_after_begin", async ({ test }) => {
    const mark = server.events.length
    const error = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = test.StreamingInputCall!((e: grpc.ServiceError | null) => resolve(e))
      // as the pool's case does: cancel once the call's metadata has reached the server
      void server.waitFor((e) => e.event === "started" && e.method === "StreamingInputCall", mark).then(() => call.cancel())
    })
    expect(error?.code).toBe(grpc.status.CANCELLED)
  })

  controlCase("cancel_after_first_response", async ({ test }) => {
    const call = test.FullDuplexCall!() as grpc.ClientDuplexStream<any, any>
    const result = collect(call)
    call.once("data", () => call.cancel())
    call.write({ response_parameters: [{ size: 31415 }], payload: zeros(27182) })
    const { responses, status } = await result
    expect(payloadSizes(responses)).toEqual([31415])
    expect(status.code).toBe(grpc.status.CANCELLED)
  })

  controlCase("timeout_on_sleeping_server", async ({ test }) => {
    const call = test.FullDuplexCall!({ deadline: Date.now() + 1 }) as grpc.ClientDuplexStream<any, any>
    const result = collect(call)
    call.write({ payload: zeros(27182) })
    expect((await result).status.code).toBe(grpc.status.DEADLINE_EXCEEDED)
  })
})
