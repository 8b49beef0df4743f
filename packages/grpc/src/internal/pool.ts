/**
 * The gRPC pool's Effect shell: a core `Pool` of channels (one item = one channel with its own
 * connection, `concurrency` = streams per channel, least-loaded pick by the core), calls made
 * through the lease API, channels that lose their connection replaced, and an Effect client
 * built from a generated client constructor's service definition.
 *
 * @internal
 */
import { Pool, PoolConfigError } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { GrpcError } from "../GrpcError.js"
import type { Options } from "../GrpcPool.js"
import { PooledChannel } from "./channel.js"

const S = grpc.connectivityState

/** The options of `GrpcPool.make`, as documented on the public type. */
export type PoolOptions = Options

/** Options of one call. */
export interface CallOptions {
  readonly metadata?: grpc.Metadata | Readonly<Record<string, string | Buffer>> | undefined
  readonly deadline?: Date | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/** What a call fails with. */
export type CallError = GrpcError | Pool.BorrowError

/** The core's option names, as users of this package know them. */
const optionNames: Record<string, string> = {
  min: "minChannels",
  max: "maxChannels",
  concurrency: "maxConcurrentStreamsPerChannel",
  maxLifetime: "maxAge",
  maxLifetimeJitter: "maxAgeJitter",
  validateTimeout: "healthCheck.timeout"
}

const statusName = (code: number): string => grpc.status[code] ?? String(code)

/** A grpc-js error (or status) as a `GrpcError`. */
export const toGrpcError = (error: Partial<grpc.StatusObject> & { readonly message?: string }): GrpcError => {
  const code = typeof error.code === "number" ? error.code : grpc.status.UNKNOWN
  const details = error.details ?? error.message ?? ""
  return new GrpcError({ code, details, metadata: error.metadata, message: `${statusName(code)}: ${details}` })
}

const metadataOf = (input: CallOptions["metadata"]): grpc.Metadata => {
  if (input === undefined) return new grpc.Metadata()
  if (input instanceof grpc.Metadata) return input
  const metadata = new grpc.Metadata()
  for (const [key, value] of Object.entries(input)) metadata.set(key, value)
  return metadata
}

const deadlineOf = (options: CallOptions | undefined): grpc.Deadline => {
  if (options?.deadline !== undefined) return options.deadline
  if (options?.timeout !== undefined) return new Date(Date.now() + Duration.toMillis(options.timeout))
  return Infinity
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** A channel-level call (grpc-js's `Call` from `call-interface`, not the surface `grpc.Call`). */
type ChannelCall = ReturnType<grpc.Channel["createCall"]>

/**
 * One unary call on a channel, with what grpc-js's `Client.makeUnaryRequest` promises: a failing
 * serializer fails the call INTERNAL, a response that does not parse fails it INTERNAL, no response
 * with OK is UNIMPLEMENTED "No message received", a second response cancels it UNIMPLEMENTED.
 * `done` gets the final status (and the response when OK) once, when grpc-js reports the status.
 */
class UnaryCall {
  private readonly call: ChannelCall
  private response: unknown = undefined
  private received = false
  private readFailure: grpc.StatusObject | undefined = undefined
  private readonly metadata: grpc.Metadata

  constructor(
    pooled: PooledChannel,
    path: string,
    private readonly serialize: (value: any) => Buffer,
    private readonly deserialize: (bytes: Buffer) => any,
    private readonly request: unknown,
    options: CallOptions | undefined,
    private readonly done: (status: grpc.StatusObject, response: unknown) => void
  ) {
    this.call = pooled.channel.createCall(path, deadlineOf(options), undefined, null, undefined)
    this.metadata = metadataOf(options?.metadata)
  }

  send(): void {
    const call = this.call
    call.start(this.metadata, this)
    call.startRead()
    let bytes: Buffer | undefined
    try {
      bytes = this.serialize(this.request)
    } catch (error) {
      call.cancelWithStatus(grpc.status.INTERNAL, `Request message serialization failure: ${messageOf(error)}`)
    }
    if (bytes !== undefined) call.sendMessageWithContext({}, bytes)
    call.halfClose()
  }

  cancel(): void {
    this.call.cancelWithStatus(grpc.status.CANCELLED, "Cancelled on client")
  }

  // the grpc-js listener
  onReceiveMetadata(): void {}
  onReceiveMessage(bytes: Buffer): void {
    if (this.received) {
      this.call.cancelWithStatus(grpc.status.UNIMPLEMENTED, "Too many responses received")
      return
    }
    this.received = true
    try {
      this.response = this.deserialize(bytes)
    } catch (error) {
      const details = `Response message parsing error: ${messageOf(error)}`
      this.readFailure = { code: grpc.status.INTERNAL, details, metadata: new grpc.Metadata() }
      this.call.cancelWithStatus(grpc.status.INTERNAL, details)
    }
  }
  onReceiveStatus(status: grpc.StatusObject): void {
    if (this.readFailure !== undefined) this.done(this.readFailure, undefined)
    else if (status.code === grpc.status.OK && !this.received) {
      this.done({ code: grpc.status.UNIMPLEMENTED, details: "No message received", metadata: status.metadata }, undefined)
    } else this.done(status, this.response)
  }
}

const callOptionsOf = (options: CallOptions | undefined): grpc.CallOptions => {
  const deadline = deadlineOf(options)
  return deadline === Infinity ? {} : { deadline }
}

/**
 * A call's responses as a Stream with back-pressure: the call is paused while the stream's
 * buffer is full and resumed as it drains.
 */
const responses = (call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Stream.Stream<unknown, GrpcError> =>
  Stream.async<unknown, GrpcError>((emit) => {
    let pending = 0
    call.on("data", (message: unknown) => {
      pending++
      if (pending >= 16) call.pause()
      void emit.single(message).then(() => {
        if (--pending < 16 && call.isPaused()) call.resume()
      })
    })
    call.on("error", (error: grpc.ServiceError) => void emit.fail(toGrpcError(error)))
    call.on("end", () => void emit.end())
  }, 32)

/**
 * Failed before a stream reached the server: the channel's picker had no connection for it
 * (grpc-js reports that as UNAVAILABLE "No connection established"), so sending it again
 * elsewhere cannot run it twice.
 */
const neverSent = (status: grpc.StatusObject): boolean =>
  status.code === grpc.status.UNAVAILABLE && /No connection established/.test(status.details)

export class GrpcPoolImpl {
  pool!: Pool.Pool<PooledChannel, GrpcError>
  readonly channels = new Set<PooledChannel>()
  /** Calls sent again on another channel after failing before reaching the server. */
  retries = 0

  constructor(
    readonly name: string,
    readonly target: string,
    readonly credentials: grpc.ChannelCredentials,
    readonly channelOptions: grpc.ChannelOptions,
    readonly connectTimeout: number,
    /** With a health check: the service a new channel must find SERVING before it is lent. */
    readonly healthService: string | undefined,
    /** How long a health check waits for its answer (ms). */
    readonly healthTimeout: number
  ) {}

  /** Opens one channel, waits for READY (and SERVING, with a health check): the core pool's `acquire`. */
  readonly acquire: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.suspend(() =>
    this.healthService === undefined ? this.connect : Effect.tap(this.connect, (pooled) => checkHealth(pooled, this.healthService!, this.healthTimeout))
  )

  private readonly connect: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.acquireRelease(
    Effect.async<PooledChannel, GrpcError>((resume) => {
      const pooled = new PooledChannel({ target: this.target, credentials: this.credentials, options: this.channelOptions })
      pooled.connect(this.connectTimeout, (failure) => {
        if (failure !== undefined) {
          pooled.close()
          return resume(Effect.fail(new GrpcError({
            code: grpc.status.UNAVAILABLE,
            details: `${this.target}: ${failure}`,
            metadata: undefined,
            message: `UNAVAILABLE: could not connect to ${this.target}: ${failure}`
          })))
        }
        this.channels.add(pooled)
        pooled.onLost = this.onLost
        resume(Effect.succeed(pooled))
      })
      return Effect.sync(() => pooled.close())
    }),
    (pooled) =>
      Effect.sync(() => {
        this.channels.delete(pooled)
        pooled.close()
      })
  )

  /** A channel left READY: out of rotation now if idle, when its calls end otherwise. */
  private readonly onLost = (pooled: PooledChannel): void => {
    if (this.pool !== undefined) Effect.runSync(Pool.invalidate(this.pool, pooled))
  }

  /**
   * A unary call on the least-loaded channel, sent once more elsewhere if it never left. Made on
   * the channel itself (`Channel.createCall`, what grpc-js's `Client` does underneath): the
   * `Client` layer's per-call objects (an EventEmitter, an interceptor chain, a captured stack)
   * cost a sixth of a call's CPU and nothing here needs them.
   */
  unary(path: string, serialize: (value: any) => Buffer, deserialize: (bytes: Buffer) => any, request: unknown, options: CallOptions | undefined): Effect.Effect<unknown, CallError> {
    return Effect.async<unknown, CallError>((resume) => {
      // the attempt in progress: waiting for a channel, or a call on one (interruption cancels either)
      let cancelBorrow: (() => void) | undefined
      let call: UnaryCall | undefined
      const attempt = (retried: boolean) => {
        call = undefined
        let waiting = true
        const cancel = Pool.unsafeBorrow(this.pool, (borrowed, failure) => {
          waiting = false
          cancelBorrow = undefined
          if (borrowed === undefined) return resume(Effect.failCause(failure as Cause.Cause<CallError>))
          const pooled = borrowed.value
          pooled.activeCalls++
          const made: UnaryCall = new UnaryCall(pooled, path, serialize, deserialize, request, options, (status, response) => {
            pooled.activeCalls--
            pooled.calls.delete(made)
            if (status.code !== grpc.status.OK && !retried && neverSent(status)) {
              Pool.unsafeInvalidate(this.pool, borrowed)
              Pool.unsafeReturn(this.pool, borrowed, Exit.void)
              this.retries++
              return attempt(true)
            }
            Pool.unsafeReturn(this.pool, borrowed, Exit.void)
            resume(status.code === grpc.status.OK ? Effect.succeed(response) : Effect.fail(toGrpcError(status)))
          })
          pooled.calls.add(made)
          call = made
          made.send()
        })
        // the callback may already have run, synchronously, inside unsafeBorrow
        if (waiting) cancelBorrow = cancel
      }
      attempt(false)
      return Effect.sync(() => {
        if (cancelBorrow !== undefined) cancelBorrow()
        else call?.cancel() // the server sees CANCELLED; the call's callback returns the channel
      })
    })
  }

  /** Borrows a channel for a scope (streams, `channel`). */
  readonly borrow: Effect.Effect<PooledChannel, CallError, Scope.Scope> = Effect.suspend(() =>
    Effect.tap(Pool.get(this.pool), (pooled) =>
      Effect.acquireRelease(Effect.sync(() => pooled.activeCalls++), () => Effect.sync(() => pooled.activeCalls--))))

  /** A call whose responses are a stream (server streaming, bidi), cancelled when the stream is. */
  streamed(open: (pooled: PooledChannel) => grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, writer?: (call: grpc.ClientDuplexStream<unknown, unknown>) => Effect.Effect<void, CallError, Scope.Scope>): Stream.Stream<unknown, CallError> {
    return Stream.unwrapScoped(Effect.gen(this, function*() {
      const pooled = yield* this.borrow
      const call = open(pooled)
      pooled.calls.add(call)
      // the call is cancelled if the stream ends before the server does (the server sees CANCELLED)
      let ended = false
      call.on("status", () => (ended = true))
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        pooled.calls.delete(call)
        if (!ended) call.cancel()
      }))
      if (writer !== undefined) yield* Effect.forkScoped(writer(call as grpc.ClientDuplexStream<unknown, unknown>))
      return responses(call)
    }))
  }

  /** Writes `requests` to a call with back-pressure (waits for 'drain'), then ends it. */
  writeAll(requests: Stream.Stream<unknown, CallError>, call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Effect.Effect<void, CallError> {
    const write = (message: unknown) =>
      Effect.async<void>((resume) => {
        if (call.write(message)) return resume(Effect.void)
        call.once("drain", () => resume(Effect.void))
      })
    return Stream.runForEach(requests, write).pipe(
      Effect.zipRight(Effect.sync(() => call.end())),
      Effect.onError((cause) => Effect.sync(() => {
        if (!Cause.isInterruptedOnly(cause)) call.cancel()
      }))
    )
  }

  /** A client-streaming call: `requests` written with back-pressure, one response. */
  clientStream(path: string, serialize: (value: any) => Buffer, deserialize: (bytes: Buffer) => any, requests: Stream.Stream<unknown, CallError>, options: CallOptions | undefined): Effect.Effect<unknown, CallError> {
    return Effect.scoped(Effect.gen(this, function*() {
      const pooled = yield* this.borrow
      let settle: ((exit: Exit.Exit<unknown, CallError>) => void) | undefined
      let result: Exit.Exit<unknown, CallError> | undefined
      const call = pooled.client.makeClientStreamRequest(path, serialize, deserialize, metadataOf(options?.metadata), callOptionsOf(options), (error, response) => {
        result = error === null ? Exit.succeed(response) : Exit.fail(toGrpcError(error))
        settle?.(result)
      })
      pooled.calls.add(call)
      yield* Effect.addFinalizer(() => Effect.sync(() => pooled.calls.delete(call)))
      const writer = yield* Effect.forkScoped(this.writeAll(requests, call))
      return yield* Effect.async<unknown, CallError>((resume) => {
        if (result !== undefined) return resume(result)
        settle = resume
        return Effect.sync(() => call.cancel())
      }).pipe(Effect.onExit(() => Effect.asVoid(writer.await)))
    }))
  }
}

/** The methods of a generated client constructor, as Effect functions. */
export const clientOf = (impl: GrpcPoolImpl, clientConstructor: grpc.ServiceClientConstructor): Record<string, unknown> => {
  const methods: Record<string, unknown> = {}
  for (const [name, definition] of Object.entries(clientConstructor.service)) {
    const { path, requestSerialize, responseDeserialize, requestStream, responseStream } = definition
    let method: unknown
    if (!requestStream && !responseStream) {
      method = (request: unknown, options?: CallOptions) => impl.unary(path, requestSerialize, responseDeserialize, request, options)
    } else if (!requestStream && responseStream) {
      method = (request: unknown, options?: CallOptions) =>
        impl.streamed((pooled) => pooled.client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, metadataOf(options?.metadata), callOptionsOf(options)))
    } else if (requestStream && !responseStream) {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) =>
        impl.clientStream(path, requestSerialize, responseDeserialize, requests, options)
    } else {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) =>
        impl.streamed(
          (pooled) => pooled.client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, metadataOf(options?.metadata), callOptionsOf(options)),
          (call) => impl.writeAll(requests, call)
        )
    }
    methods[name] = method
    if (typeof definition.originalName === "string") methods[definition.originalName] = method
  }
  return methods
}

const count = (pool: string, option: string, value: number | undefined, fallback: number, least: number) => {
  const n = value ?? fallback
  return typeof n === "number" && n >= least && (Number.isInteger(n) || n === Infinity)
    ? Effect.succeed(n)
    : Effect.fail(new PoolConfigError({ pool, option, reason: `must be a whole number of at least ${least}, got ${String(n)}` }))
}

/** `GrpcPool.make`. */
export const make = (options: PoolOptions): Effect.Effect<GrpcPoolImpl, PoolConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const name = options.name ?? "grpc"
    if (typeof options.target !== "string" || options.target === "") {
      return yield* new PoolConfigError({ pool: name, option: "target", reason: `must be a host:port or a gRPC target URI, got ${String(options.target)}` })
    }
    const duration = (option: string, input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
      Pool.durationOption(name, option, input, fallback)
    const connectTimeout = yield* duration("connectTimeout", options.connectTimeout, "10 seconds")
    const keepaliveTime = yield* duration("keepalive.time", options.keepalive?.time, "5 minutes")
    const keepaliveTimeout = yield* duration("keepalive.timeout", options.keepalive?.timeout, "20 seconds")
    const streams = yield* count(name, "maxConcurrentStreamsPerChannel", options.maxConcurrentStreamsPerChannel, 100, 1)
    const healthTimeout = yield* duration("healthCheck.timeout", options.healthCheck?.timeout, "5 seconds")
    const impl = new GrpcPoolImpl(
      name,
      options.target,
      options.credentials ?? grpc.credentials.createInsecure(),
      {
        "grpc.keepalive_time_ms": keepaliveTime,
        "grpc.keepalive_timeout_ms": keepaliveTimeout,
        "grpc.keepalive_permit_without_calls": options.keepalive?.permitWithoutCalls === true ? 1 : 0,
        ...options.channelOptions,
        // what makes a channel pool pool anything: a connection per channel
        "grpc.use_local_subchannel_pool": 1
      },
      connectTimeout,
      options.healthCheck === undefined ? undefined : (options.healthCheck.service ?? ""),
      healthTimeout
    )
    const health = options.healthCheck
    impl.pool = yield* Pool.make({
      acquire: impl.acquire,
      name,
      min: options.minChannels ?? 1,
      max: options.maxChannels ?? 4,
      concurrency: streams,
      targetUtilization: options.targetUtilization ?? 0.8,
      maxLifetime: options.maxAge,
      maxLifetimeJitter: options.maxAgeJitter,
      idleTimeout: options.idleTimeout ?? "10 minutes",
      acquireTimeout: options.acquireTimeout ?? "30 seconds",
      createTimeout: Infinity, // connectTimeout bounds a connection, with a GrpcError
      shutdownTimeout: options.shutdownTimeout,
      validateTimeout: healthTimeout,
      healthCheck: health === undefined ? undefined : {
        check: (pooled) => checkHealth(pooled, health.service ?? "", healthTimeout),
        schedule: health.schedule ?? Schedule.spaced("10 seconds"),
        // NOT_SERVING is the service's word, not a broken connection: the channel stays
        // connected, out of rotation, until a check finds it SERVING (as grpc's own health-checking
        // clients do); a check that fails otherwise (no answer, UNAVAILABLE) replaces the channel
        onFailure: (error) => (isNotServing(error) ? "suspend" : "evict")
      }
    }).pipe(Effect.mapError((error) => new PoolConfigError({ pool: error.pool, option: optionNames[error.option] ?? error.option, reason: error.reason })))
    return impl
  })

const healthPath = "/grpc.health.v1.Health/Check"
// grpc.health.v1.HealthCheckRequest { string service = 1; } / HealthCheckResponse { ServingStatus status = 1; }
const encodeHealthRequest = (service: string): Buffer => {
  const bytes = Buffer.from(service, "utf8")
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes])
}
const decodeHealthStatus = (bytes: Buffer): number => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1] : 0)
const SERVING = 1
const NOT_SERVING_DETAILS = "health: "

/** The failure of a health check that was answered, with a status other than SERVING. */
const isNotServing = (error: unknown): boolean => error instanceof GrpcError && error.details.startsWith(NOT_SERVING_DETAILS)

/** `grpc.health.v1.Health/Check` on one channel: fails unless the service is SERVING. */
const checkHealth = (pooled: PooledChannel, service: string, timeout: number): Effect.Effect<void, GrpcError> =>
  Effect.async<void, GrpcError>((resume) => {
    // the same channel-level unary call as the client's (its status and parse failures included)
    const call = new UnaryCall(pooled, healthPath, encodeHealthRequest, decodeHealthStatus, service, { timeout }, (result, status) => {
      if (result.code !== grpc.status.OK) return resume(Effect.fail(toGrpcError(result)))
      pooled.notServing = status !== SERVING
      if (status !== SERVING) {
        const details = `${NOT_SERVING_DETAILS}"${service}" is not SERVING (status ${status})`
        return resume(Effect.fail(new GrpcError({ code: grpc.status.UNAVAILABLE, details, metadata: undefined, message: `UNAVAILABLE: ${details}` })))
      }
      resume(Effect.void)
    })
    call.send()
    return Effect.sync(() => call.cancel())
  })

/** Per channel, for stats. */
export const channelStats = (pooled: PooledChannel) => ({
  state: S[pooled.state()] as keyof typeof S,
  activeCalls: pooled.activeCalls,
  ageMillis: Date.now() - pooled.createdAt,
  notServing: pooled.notServing
})
