/**
 * The gRPC pool's Effect shell: a core `Pool` of channels (one item = one channel with its own
 * connection, `concurrency` = streams per channel, least-loaded pick by the core), calls made
 * through the lease API, channels that lose their connection replaced, and an Effect client
 * built from a generated client constructor's service definition.
 *
 * @internal
 */
import { OptionCheck, Pool, type PoolConfigError } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { GrpcError } from "../GrpcError.js"
import type { Options } from "../GrpcPool.js"
import { PooledChannel } from "./channel.js"
import { type CallOptions, guarded, invalidArgument, messageOf, type ParsedCall, parseCallOptions } from "./callOptions.js"

const S = grpc.connectivityState

/** The options of `GrpcPool.make`, as documented on the public type. */
export type PoolOptions = Options

export type { CallOptions } from "./callOptions.js"

/** What a call fails with. */
export type CallError = GrpcError | Pool.BorrowError

const statusName = (code: number): string => grpc.status[code] ?? String(code)

/** Something threw where nothing should: INTERNAL, never a throw into a callback. */
const internalError = (error: unknown): GrpcError => {
  const details = `internal error in the pool's call: ${messageOf(error)}`
  return new GrpcError({ code: grpc.status.INTERNAL, details, metadata: undefined, message: `INTERNAL: ${details}` })
}

/** An interceptor (or interceptor provider) threw as the call was made. */
const interceptorError = (error: unknown): GrpcError => {
  const details = `an interceptor threw: ${messageOf(error)}`
  return new GrpcError({ code: grpc.status.INTERNAL, details, metadata: undefined, message: `INTERNAL: ${details}` })
}

/** A call's deadline passed while it waited for a channel. */
const deadlineExceeded = (): GrpcError => {
  const details = "Deadline exceeded while waiting for a channel"
  return new GrpcError({ code: grpc.status.DEADLINE_EXCEEDED, details, metadata: undefined, message: `DEADLINE_EXCEEDED: ${details}` })
}

/** No options: the pool's defaults, no deadline. */
const noCall: ParsedCall = {
  metadata: new grpc.Metadata(),
  deadline: Infinity,
  onMetadata: undefined,
  onStatus: undefined,
  waitForReady: undefined,
  interceptors: undefined,
  providers: undefined,
  compress: undefined
}

/** A grpc-js error (or status) as a `GrpcError`. */
export const toGrpcError = (error: Partial<grpc.StatusObject> & { readonly message?: string }): GrpcError => {
  const code = typeof error.code === "number" ? error.code : grpc.status.UNKNOWN
  const details = error.details ?? error.message ?? ""
  return new GrpcError({ code, details, metadata: error.metadata, message: `${statusName(code)}: ${details}` })
}


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
    private readonly options: ParsedCall,
    private readonly done: (status: grpc.StatusObject, response: unknown) => void
  ) {
    this.call = pooled.channel.createCall(path, options.deadline, undefined, null, undefined)
    this.metadata = options.metadata
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
    if (bytes !== undefined) call.sendMessageWithContext(this.options.compress === false ? { flags: NO_COMPRESS } : {}, bytes)
    call.halfClose()
  }

  cancel(): void {
    this.call.cancelWithStatus(grpc.status.CANCELLED, "Cancelled on client")
  }

  // the grpc-js listener
  onReceiveMetadata(metadata: grpc.Metadata): void {
    const thrown = guarded(this.options.onMetadata, metadata)
    if (thrown !== undefined) this.userFailure("onMetadata", thrown)
  }
  /** A user's callback threw: the call fails INTERNAL with what it threw. */
  private userFailure(callback: string, thrown: unknown): void {
    if (this.readFailure !== undefined) return
    const details = `${callback} threw: ${messageOf(thrown)}`
    this.readFailure = { code: grpc.status.INTERNAL, details, metadata: new grpc.Metadata() }
    this.call.cancelWithStatus(grpc.status.INTERNAL, details)
  }
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
    const thrown = guarded(this.options.onStatus, status)
    if (thrown !== undefined && this.readFailure === undefined) {
      const details = `onStatus threw: ${messageOf(thrown)}`
      this.readFailure = { code: grpc.status.INTERNAL, details, metadata: status.metadata }
    }
    if (this.readFailure !== undefined) this.done(this.readFailure, undefined)
    else if (status.code === grpc.status.OK && !this.received) {
      this.done({ code: grpc.status.UNIMPLEMENTED, details: "No message received", metadata: status.metadata }, undefined)
    } else this.done(status, this.response)
  }
}

/** grpc-js's `WriteFlags.NoCompress` (call-interface.ts; not exported): this message is sent uncompressed. */
const NO_COMPRESS = 2

/** A call's messages uncompressed: the `NoCompress` write flag on each, below the caller's interceptors. */
class UncompressedCall extends grpc.InterceptingCall {
  override sendMessageWithContext(context: Parameters<grpc.InterceptingCall["sendMessageWithContext"]>[0], message: unknown): void {
    super.sendMessageWithContext({ ...context, flags: (context.flags ?? 0) | NO_COMPRESS }, message)
  }
}
const uncompressed: grpc.Interceptor = (options, nextCall) => new UncompressedCall(nextCall(options))

/** A method of a service definition (what interceptor providers are given). */
export type Method = grpc.MethodDefinition<any, any>

/**
 * The call's interceptors as grpc-js takes them: its own (providers asked here, with the method),
 * then, for `compress: false`, the one that flags every message. `undefined`: none.
 */
const interceptorsOf = (method: Method, options: ParsedCall): Array<grpc.Interceptor> | undefined => {
  const own = options.interceptors ?? options.providers?.map((provide) => provide(method)).filter((f) => typeof f === "function")
  if (options.compress !== false) return own === undefined ? undefined : [...own]
  return [...(own ?? []), uncompressed]
}

/** grpc-js `CallOptions` of a call made through a `Client` (streams, intercepted unary calls). */
const callOptionsOf = (method: Method, options: ParsedCall): grpc.CallOptions => {
  const interceptors = interceptorsOf(method, options)
  const result: { deadline?: grpc.Deadline; interceptors?: Array<grpc.Interceptor> } = {}
  if (options.deadline !== Infinity) result.deadline = options.deadline
  if (interceptors !== undefined) result.interceptors = interceptors
  return result
}

/**
 * A unary call with interceptors: made through the channel's `Client` (where grpc-js runs
 * interceptors), with the same results as `UnaryCall`'s — the caller's callbacks guarded, the
 * final status (and response) to `done` once, from grpc-js's `status` event.
 */
class InterceptedUnaryCall {
  private call: grpc.ClientUnaryCall | undefined
  private failure: grpc.StatusObject | undefined = undefined

  constructor(
    private readonly pooled: PooledChannel,
    private readonly method: Method,
    private readonly request: unknown,
    private readonly options: ParsedCall,
    private readonly done: (status: grpc.StatusObject, response: unknown) => void
  ) {}

  send(): void {
    let result: { readonly error: grpc.ServiceError | null; readonly response: unknown } | undefined
    const { method, options } = this
    const call = this.pooled.client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, this.request, options.metadata, callOptionsOf(method, options), (error, response) => {
      result = { error, response }
    })
    this.call = call
    call.on("metadata", (metadata: grpc.Metadata) => {
      const thrown = guarded(options.onMetadata, metadata)
      if (thrown !== undefined && this.failure === undefined) {
        const details = `onMetadata threw: ${messageOf(thrown)}`
        this.failure = { code: grpc.status.INTERNAL, details, metadata: new grpc.Metadata() }
        call.cancel()
      }
    })
    // grpc-js calls the callback, then emits the status
    call.on("status", (status: grpc.StatusObject) => {
      const thrown = guarded(options.onStatus, status)
      if (thrown !== undefined && this.failure === undefined) {
        this.failure = { code: grpc.status.INTERNAL, details: `onStatus threw: ${messageOf(thrown)}`, metadata: status.metadata }
      }
      if (this.failure !== undefined) return this.done(this.failure, undefined)
      const error = result?.error
      if (error) return this.done({ code: error.code, details: error.details, metadata: error.metadata }, undefined)
      this.done(status, result?.response)
    })
  }

  cancel(): void {
    this.call?.cancel()
  }
}

/** A streaming call's `metadata` and `status` events to the user's callbacks, guarded. */
const listen = (call: grpc.ClientReadableStream<unknown> | grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, options: ParsedCall): void => {
  // a callback that throws cancels the call (the caller sees CANCELLED), never throws into grpc-js
  const fail = () => call.cancel()
  if (options.onMetadata !== undefined) {
    call.on("metadata", (metadata: grpc.Metadata) => {
      const thrown = guarded(options.onMetadata, metadata)
      if (thrown !== undefined) fail()
    })
  }
  if (options.onStatus !== undefined) call.on("status", (status: grpc.StatusObject) => void guarded(options.onStatus, status))
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
    readonly healthTimeout: number,
    /** Calls wait for a connection by default (grpc's `waitForReady`) instead of failing fast. */
    readonly waitForReady: boolean
  ) {}

  /** Channels being connected now. */
  private connecting = 0
  /** Why the last connection attempt failed; cleared by the next that succeeds. */
  private failure: GrpcError | undefined = undefined
  /** Fail-fast calls waiting for a channel: each fails UNAVAILABLE when the pool cannot connect. */
  private readonly failFast = new Set<(error: GrpcError) => void>()

  /** A channel in rotation or able to come back (connected, not lost): a wait for it is not fail-fast's business. */
  private hasConnection(): boolean {
    for (const pooled of this.channels) if (!pooled.lost && !pooled.closed) return true
    return false
  }

  /** A connection attempt failed: fail-fast calls waiting fail with it, unless a connection is up. */
  private connectionFailed(reason: string): void {
    const details = `no connection to ${this.target}: ${reason}`
    const error = new GrpcError({ code: grpc.status.UNAVAILABLE, details, metadata: undefined, message: `UNAVAILABLE: ${details}` })
    this.failure = error
    if (this.failFast.size === 0 || this.hasConnection()) return
    for (const fail of [...this.failFast]) fail(error)
  }

  /**
   * Borrows a channel for one call, with grpc's semantics of a call waiting for a connection:
   * fail-fast (UNAVAILABLE once a connection attempt fails while no channel is connected — at
   * once if the pool is failing to connect right now), or with \`waitForReady\` until a channel
   * is READY; either way DEADLINE_EXCEEDED once the call's deadline passes, and the pool's
   * \`acquireTimeout\`. \`done\` is called once (synchronously when a channel is free); the
   * function returned gives up a wait still going.
   */
  lend(options: ParsedCall, done: (lease: Pool.Lease<PooledChannel> | undefined, failure: Cause.Cause<CallError> | undefined) => void): () => void {
    let settled = false
    let listed = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let cancel: () => void = () => {}
    const giveUp = (error: GrpcError) => {
      if (settled) return
      stop()
      cancel()
      done(undefined, Cause.fail(error))
    }
    const stop = () => {
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      if (listed) this.failFast.delete(giveUp)
    }
    cancel = Pool.unsafeBorrow(this.pool, (lease, failure) => {
      if (settled) {
        // given up (a timer, fail-fast) while the pool was handing it over: not ours any more
        if (lease !== undefined) Pool.unsafeReturn(this.pool, lease, Exit.void)
        return
      }
      stop()
      done(lease, failure as Cause.Cause<CallError> | undefined)
    })
    if (settled) return cancel // lent at once: the fast path
    if (!(options.waitForReady ?? this.waitForReady)) {
      // grpc's fail-fast: a channel in TRANSIENT_FAILURE fails a call at once; here, a pool whose
      // last attempt failed, that is trying again, and has no connection up
      if (this.failure !== undefined && this.connecting > 0 && !this.hasConnection()) {
        giveUp(this.failure)
        return cancel
      }
      this.failFast.add(giveUp)
      listed = true
    }
    if (options.deadline !== Infinity) {
      const at = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline
      const arm = () => {
        const left = at - Date.now()
        if (left > OptionCheck.MAX_TIMER_MILLIS) timer = setTimeout(arm, OptionCheck.MAX_TIMER_MILLIS)
        else timer = setTimeout(() => giveUp(deadlineExceeded()), Math.max(0, left))
      }
      arm()
    }
    return () => {
      if (settled) return
      stop()
      cancel()
    }
  }

  /** Opens one channel, waits for READY (and SERVING, with a health check): the core pool's `acquire`. */
  readonly acquire: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.suspend(() =>
    this.healthService === undefined ? this.connect : Effect.tap(this.connect, (pooled) => checkHealth(pooled, this.healthService!, this.healthTimeout))
  )

  private readonly connect: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.acquireRelease(
    // interruptible while it connects (acquireRelease's acquire is not): a pool closing while a
    // channel connects to a server that is down closes it now instead of awaiting connectTimeout
    Effect.interruptible(Effect.async<PooledChannel, GrpcError>((resume) => {
      const pooled = new PooledChannel({ target: this.target, credentials: this.credentials, options: this.channelOptions })
      let connecting = true
      const settle = () => {
        if (connecting) this.connecting--
        connecting = false
      }
      this.connecting++
      pooled.connect(this.connectTimeout, () => this.connectionFailed("connection failed (TRANSIENT_FAILURE)"), (failure) => {
        settle()
        if (failure !== undefined) {
          pooled.close()
          this.connectionFailed(failure)
          return resume(Effect.fail(new GrpcError({
            code: grpc.status.UNAVAILABLE,
            details: `${this.target}: ${failure}`,
            metadata: undefined,
            message: `UNAVAILABLE: could not connect to ${this.target}: ${failure}`
          })))
        }
        this.failure = undefined
        this.channels.add(pooled)
        pooled.onLost = this.onLost
        resume(Effect.succeed(pooled))
      })
      return Effect.sync(() => {
        settle()
        pooled.close()
      })
    })),
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

  /** The pool's channels compress (`grpc.default_compression_algorithm` other than identity). */
  private get compresses(): boolean {
    const algorithm: unknown = this.channelOptions["grpc.default_compression_algorithm"]
    return algorithm !== undefined && algorithm !== 0 && algorithm !== "identity"
  }

  /** A call's options, checked, also against the pool (`compress: true` needs channels that compress). */
  parse(input: CallOptions | undefined): Either.Either<ParsedCall, GrpcError> {
    const parsed = parseCallOptions(input)
    if (parsed._tag === "Right" && parsed.right.compress === true && !this.compresses) {
      return Either.left(invalidArgument("compress", "the pool's channels do not compress: set channelOptions[\"grpc.default_compression_algorithm\"] (grpc-js compresses per channel)"))
    }
    return parsed
  }

  /**
   * A unary call on the least-loaded channel, sent once more elsewhere if it never left. Made on
   * the channel itself (`Channel.createCall`, what grpc-js's `Client` does underneath): the
   * `Client` layer's per-call objects (an EventEmitter, an interceptor chain, a captured stack)
   * cost a sixth of a call's CPU and nothing here needs them.
   */
  unary(method: Method, request: unknown, input: CallOptions | undefined): Effect.Effect<unknown, CallError> {
    // every argument checked before anything is borrowed: nothing of the caller's can throw below
    const parsed = this.parse(input)
    if (parsed._tag === "Left") return Effect.fail(parsed.left)
    const options = parsed.right
    const intercepted = options.interceptors !== undefined || options.providers !== undefined
    return Effect.async<unknown, CallError>((resume) => {
      // the attempt in progress: waiting for a channel, or a call on one (interruption cancels either)
      let cancelBorrow: (() => void) | undefined
      let call: UnaryCall | InterceptedUnaryCall | undefined
      const attempt = (retried: boolean) => {
        call = undefined
        let waiting = true
        const cancel = this.lend(options, (borrowed, failure) => {
          waiting = false
          cancelBorrow = undefined
          if (borrowed === undefined) return resume(Effect.failCause(failure!))
          const pooled = borrowed.value
          pooled.activeCalls++
          let returned = false
          const giveBack = () => {
            if (returned) return false
            returned = true
            pooled.activeCalls--
            pooled.calls.delete(made)
            return true
          }
          const finished = (status: grpc.StatusObject, response: unknown) => {
            // inside a grpc-js callback: nothing may throw out of here
            if (!giveBack()) return
            try {
              // sent again once — or, for a call that waits for a connection, as often as it takes
              if (status.code !== grpc.status.OK && (!retried || (options.waitForReady ?? this.waitForReady)) && neverSent(status)) {
                Pool.unsafeInvalidate(this.pool, borrowed)
                Pool.unsafeReturn(this.pool, borrowed, Exit.void)
                this.retries++
                return attempt(true)
              }
              Pool.unsafeReturn(this.pool, borrowed, Exit.void)
            } catch (error) {
              return resume(Effect.fail(internalError(error)))
            }
            resume(status.code === grpc.status.OK ? Effect.succeed(response) : Effect.fail(toGrpcError(status)))
          }
          const made = intercepted
            ? new InterceptedUnaryCall(pooled, method, request, options, finished)
            : new UnaryCall(pooled, method.path, method.requestSerialize, method.responseDeserialize, request, options, finished)
          try {
            pooled.calls.add(made)
            call = made
            made.send()
          } catch (error) {
            // a bug, not the caller's argument (those were checked): the slot comes back all the same
            made.cancel()
            if (giveBack()) {
              Pool.unsafeReturn(this.pool, borrowed, Exit.void)
              resume(Effect.fail(internalError(error)))
            }
          }
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

  /** Borrows a channel for a scope (streams, `channel`), waiting for it as `lend` does. */
  borrowFor(options: ParsedCall): Effect.Effect<PooledChannel, CallError, Scope.Scope> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        restore(Effect.async<Pool.Lease<PooledChannel>, CallError>((resume) => {
          let lent: Pool.Lease<PooledChannel> | undefined
          const cancel = this.lend(options, (lease, failure) => {
            if (lease === undefined) return resume(Effect.failCause(failure!))
            lent = lease
            lease.value.activeCalls++
            resume(Effect.succeed(lease))
          })
          return Effect.sync(() => {
            if (lent === undefined) return cancel()
            // interrupted as it was lent: given back here
            lent.value.activeCalls--
            Pool.unsafeReturn(this.pool, lent, Exit.void)
          })
        })),
        (lease) =>
          Effect.as(
            Effect.addFinalizer(() =>
              Effect.sync(() => {
                lease.value.activeCalls--
                Pool.unsafeReturn(this.pool, lease, Exit.void)
              })
            ),
            lease.value
          )
      )
    )
  }

  /** `GrpcPool.channel`: a channel for a scope, waiting for it as the pool's calls do by default. */
  readonly borrow: Effect.Effect<PooledChannel, CallError, Scope.Scope> = Effect.suspend(() => this.borrowFor(noCall))

  /** A call whose responses are a stream (server streaming, bidi), cancelled when the stream is. */
  streamed(input: CallOptions | undefined, open: (pooled: PooledChannel, options: ParsedCall) => grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, writer?: (call: grpc.ClientDuplexStream<unknown, unknown>) => Effect.Effect<void, CallError, Scope.Scope>): Stream.Stream<unknown, CallError> {
    const parsed = this.parse(input)
    if (parsed._tag === "Left") return Stream.fail(parsed.left)
    const options = parsed.right
    return Stream.unwrapScoped(Effect.gen(this, function*() {
      const pooled = yield* this.borrowFor(options)
      // an interceptor (or its provider) may throw as the call is made: the call's failure
      const call = yield* Effect.try({ try: () => open(pooled, options), catch: interceptorError })
      listen(call, options)
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
    return Stream.runForEach(requests, write).pipe(Effect.zipRight(Effect.sync(() => call.end())))
  }

  /** A client-streaming call: `requests` written with back-pressure, one response. */
  clientStream(method: Method, requests: Stream.Stream<unknown, CallError>, input: CallOptions | undefined): Effect.Effect<unknown, CallError> {
    const parsed = this.parse(input)
    if (parsed._tag === "Left") return Effect.fail(parsed.left)
    const options = parsed.right
    return Effect.scoped(Effect.gen(this, function*() {
      const pooled = yield* this.borrowFor(options)
      let settle: ((exit: Exit.Exit<unknown, CallError>) => void) | undefined
      let result: Exit.Exit<unknown, CallError> | undefined
      const call = yield* Effect.try({
        try: () =>
          pooled.client.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, options.metadata, callOptionsOf(method, options), (error, response) => {
            if (result !== undefined) return
            result = error === null ? Exit.succeed(response) : Exit.fail(toGrpcError(error))
            settle?.(result)
          }),
        catch: interceptorError
      })
      listen(call, options)
      pooled.calls.add(call)
      yield* Effect.addFinalizer(() => Effect.sync(() => pooled.calls.delete(call)))
      // the request Stream may never end: the call's outcome (response, status, deadline,
      // interruption) ends the writer, never the other way round
      const writer = yield* Effect.forkScoped(this.writeAll(requests, call).pipe(
        Effect.catchAllCause((cause) =>
          Effect.sync(() => {
            // a failing request Stream fails the call with its own error (the call was cancelled)
            if (result === undefined && !Cause.isInterruptedOnly(cause)) {
              result = Exit.failCause(cause)
              settle?.(result)
              call.cancel()
            }
          })
        )
      ))
      return yield* Effect.async<unknown, CallError>((resume) => {
        if (result !== undefined) return resume(result)
        settle = resume
        return Effect.sync(() => call.cancel())
      }).pipe(Effect.onExit(() => Fiber.interrupt(writer)))
    }))
  }
}

/** The methods of a generated client constructor, as Effect functions. */
export const clientOf = (impl: GrpcPoolImpl, clientConstructor: grpc.ServiceClientConstructor): Record<string, unknown> => {
  const methods: Record<string, unknown> = {}
  for (const [name, definition] of Object.entries(clientConstructor.service)) {
    const { path, requestSerialize, responseDeserialize, requestStream, responseStream } = definition
    const md = definition as Method
    let method: unknown
    if (!requestStream && !responseStream) {
      method = (request: unknown, options?: CallOptions) => impl.unary(md, request, options)
    } else if (!requestStream && responseStream) {
      method = (request: unknown, options?: CallOptions) =>
        impl.streamed(options, (pooled, parsed) => pooled.client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, parsed.metadata, callOptionsOf(md, parsed)))
    } else if (requestStream && !responseStream) {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) => impl.clientStream(md, requests, options)
    } else {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) =>
        impl.streamed(
          options,
          (pooled, parsed) => pooled.client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, parsed.metadata, callOptionsOf(md, parsed)),
          (call) =>
            impl.writeAll(requests, call).pipe(Effect.onError((cause) =>
              Effect.sync(() => {
                if (!Cause.isInterruptedOnly(cause)) call.cancel()
              })
            ))
        )
    }
    methods[name] = method
    if (typeof definition.originalName === "string") methods[definition.originalName] = method
  }
  return methods
}

/** Our option names. */
const optionKeys = [
  "target", "credentials", "name", "minChannels", "maxChannels", "maxConcurrentStreamsPerChannel", "targetUtilization",
  "maxAge", "maxAgeJitter", "keepalive", "channelOptions", "healthCheck", "idleTimeout", "connectTimeout",
  "acquireTimeout", "shutdownTimeout", "waitForReady"
]
/**
 * Names other pools (the core's, grpc-gcp's ChannelPool, gax's ChannelPoolSettings) give what
 * ours mean: not accepted — the error names ours, so that one name means one thing.
 */
const optionAliases: Record<string, string> = {
  min: "minChannels",
  max: "maxChannels",
  minSize: "minChannels",
  maxSize: "maxChannels",
  minChannelCount: "minChannels",
  maxChannelCount: "maxChannels",
  initialChannelCount: "minChannels",
  concurrency: "maxConcurrentStreamsPerChannel",
  maxConcurrentStreams: "maxConcurrentStreamsPerChannel",
  maxConcurrentStreamsLowWatermark: "maxConcurrentStreamsPerChannel (with targetUtilization)",
  maxLifetime: "maxAge",
  maxLifetimeJitter: "maxAgeJitter",
  validateTimeout: "healthCheck.timeout",
  createTimeout: "connectTimeout",
  options: "channelOptions"
}
/** grpc-js channel options that have an option of ours. */
const channelOptionAliases: Record<string, string> = {
  "grpc.keepalive_time_ms": "keepalive.time",
  "grpc.keepalive_timeout_ms": "keepalive.timeout",
  "grpc.keepalive_permit_without_calls": "keepalive.permitWithoutCalls"
}

/** A `host:port` (or `dns:`/`ipv4:`/`ipv6:` URI) whose port is a port; other schemes are grpc-js's to parse. */
const checkTarget = (check: OptionCheck.Checker, target: string): void => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase()
  let rest = target
  if (scheme === "dns") rest = target.replace(/^dns:(\/\/[^/]*\/)?/i, "")
  else if (scheme === "ipv4" || scheme === "ipv6") rest = target.slice(scheme.length + 1).split(",")[0]!
  else if (scheme !== undefined && !/^\d+$/.test(target.slice(scheme.length + 1))) return // unix:, vsock:, xds:, …
  const hostPort = grpc.experimental.splitHostPort(rest)
  if (hostPort === null || hostPort.host === "") check.fail("target", `is not a host:port or a gRPC target URI: ${JSON.stringify(target)}`)
  const port = hostPort!.port
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    check.fail("target", `has port ${port}, outside 1–65535: ${JSON.stringify(target)}`)
  }
  if (port === undefined && /:\s*$/.test(rest)) check.fail("target", `has an empty port: ${JSON.stringify(target)}`)
}

/** A target on this machine: `localhost`, 127.0.0.0/8, `::1`, a unix socket. */
const isLoopback = (target: string): boolean => {
  if (/^unix(-abstract)?:/i.test(target)) return true
  const rest = target.replace(/^(dns:(\/\/[^/]*\/)?|ipv4:|ipv6:)/i, "")
  const host = grpc.experimental.splitHostPort(rest.split(",")[0]!)?.host?.toLowerCase()
  return host === "localhost" || host === "::1" || (host !== undefined && /^127\.\d+\.\d+\.\d+$/.test(host))
}

/** The options, checked: every key known, every value of its type and range. */
const parseOptions = (options: PoolOptions) => {
  const name = typeof options?.name === "string" && options.name.trim() !== "" ? options.name : "grpc"
  return OptionCheck.run(name, (check) => {
    check.record("options", options)
    check.known(options, optionKeys, optionAliases)
    check.string("name", options.name, "grpc", { nonEmpty: true })
    const target = check.string("target", options.target, undefined, { nonEmpty: true })
    if (target === undefined) check.fail("target", "is required: a host:port or a gRPC target URI")
    checkTarget(check, target!)
    // plaintext only when asked for — or to this machine, where nothing is on the wire
    const credentials = options.credentials ?? (isLoopback(target!) ? grpc.credentials.createInsecure() : undefined)
    if (credentials === undefined) {
      check.fail("credentials", `is required for ${JSON.stringify(target)} (not a loopback address): grpc.credentials.createSsl(…) for TLS, or grpc.credentials.createInsecure() for plaintext, said explicitly`)
    }
    if (!(credentials instanceof grpc.ChannelCredentials)) {
      check.fail("credentials", `must be a grpc-js ChannelCredentials (grpc.credentials.createSsl / createInsecure), got ${OptionCheck.describeValue(credentials)}`)
    }
    const maxChannels = check.integer("maxChannels", options.maxChannels, 4, { min: 1, max: 10_000 })
    const minChannels = check.integer("minChannels", options.minChannels, 1, { min: 0 })
    if (minChannels > maxChannels) check.fail("minChannels", `must not exceed maxChannels (${maxChannels})`)
    // HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS is 31 bits
    const streams = check.integer("maxConcurrentStreamsPerChannel", options.maxConcurrentStreamsPerChannel, 100, { min: 1, max: 2 ** 31 - 1 })
    const targetUtilization = check.number("targetUtilization", options.targetUtilization, 0.8, { min: 0, minExclusive: true, max: 1 })
    const maxAgeJitter = check.number("maxAgeJitter", options.maxAgeJitter, 0.1, { min: 0, max: 1 })
    // 0 is no limit for the ages and timeouts below that would otherwise make the pool unusable
    const maxAge = check.duration("maxAge", options.maxAge, Infinity, { zero: "reject" })
    const idleTimeout = check.duration("idleTimeout", options.idleTimeout, "10 minutes")
    const connectTimeout = check.duration("connectTimeout", options.connectTimeout, "10 seconds", { zero: "reject" })
    const acquireTimeout = check.duration("acquireTimeout", options.acquireTimeout, "30 seconds")
    const shutdownTimeout = check.duration("shutdownTimeout", options.shutdownTimeout, "10 seconds")
    const waitForReady = check.boolean("waitForReady", options.waitForReady, false)
    const keepalive = check.record("keepalive", options.keepalive)
    check.known(keepalive, ["time", "timeout", "permitWithoutCalls"], {}, "keepalive.")
    const keepaliveTime = check.duration("keepalive.time", keepalive?.time, "5 minutes", { zero: "reject" })
    const keepaliveTimeout = check.duration("keepalive.timeout", keepalive?.timeout, "20 seconds", { zero: "reject" })
    const permitWithoutCalls = check.boolean("keepalive.permitWithoutCalls", keepalive?.permitWithoutCalls, false)
    const channelOptions = check.record("channelOptions", options.channelOptions) ?? {}
    for (const [key, value] of Object.entries(channelOptions)) {
      if (value === undefined) continue
      const ours = channelOptionAliases[key]
      if (ours !== undefined) check.fail(`channelOptions["${key}"]`, `is set by the pool; use ${ours} instead`)
      if (!/^grpc(-node)?\./.test(key)) check.fail(`channelOptions["${key}"]`, "is not a grpc-js channel option (they start with grpc. or grpc-node.)")
      if (key !== "grpc.use_local_subchannel_pool" && !["string", "number", "object", "function"].includes(typeof value)) {
        check.fail(`channelOptions["${key}"]`, `must be a number or a string, got ${OptionCheck.describeValue(value)}`)
      }
    }
    const health = check.record("healthCheck", options.healthCheck)
    check.known(health, ["service", "schedule", "timeout"], {}, "healthCheck.")
    const healthService = health === undefined ? undefined : check.string("healthCheck.service", health.service, "")
    if (health?.schedule !== undefined && !Schedule.isSchedule(health.schedule)) {
      check.fail("healthCheck.schedule", `must be a Schedule, got ${OptionCheck.describeValue(health.schedule)}`)
    }
    const healthTimeout = check.duration("healthCheck.timeout", health?.timeout, "5 seconds", { zero: "reject" })
    return {
      name, target: target!, credentials: credentials as grpc.ChannelCredentials, minChannels, maxChannels, streams, targetUtilization,
      maxAge, maxAgeJitter, idleTimeout, connectTimeout, acquireTimeout, shutdownTimeout, keepaliveTime, keepaliveTimeout,
      permitWithoutCalls, channelOptions: channelOptions as grpc.ChannelOptions, healthService,
      healthSchedule: health?.schedule as Schedule.Schedule<unknown> | undefined, healthTimeout, waitForReady
    }
  })
}

/** `GrpcPool.make`. */
export const make = (options: PoolOptions): Effect.Effect<GrpcPoolImpl, PoolConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const o = yield* parseOptions(options)
    const impl = new GrpcPoolImpl(
      o.name,
      o.target,
      o.credentials,
      {
        // keepalive: grpc-js arms setTimeout with these — past the timer limit a ping would go
        // out at once, so "never" is grpc-js's -1 (no pings) and a timeout is capped at the limit
        "grpc.keepalive_time_ms": OptionCheck.timerMillis(o.keepaliveTime) ?? -1,
        "grpc.keepalive_timeout_ms": OptionCheck.timerMillis(o.keepaliveTimeout) ?? OptionCheck.MAX_TIMER_MILLIS,
        "grpc.keepalive_permit_without_calls": o.permitWithoutCalls ? 1 : 0,
        ...o.channelOptions,
        // what makes a channel pool pool anything: a connection per channel
        "grpc.use_local_subchannel_pool": 1
      },
      OptionCheck.timerMillis(o.connectTimeout) ?? Infinity,
      o.healthService,
      o.healthTimeout,
      o.waitForReady
    )
    impl.pool = yield* Pool.make({
      acquire: impl.acquire,
      name: o.name,
      min: o.minChannels,
      max: o.maxChannels,
      concurrency: o.streams,
      targetUtilization: o.targetUtilization,
      maxLifetime: o.maxAge,
      maxLifetimeJitter: o.maxAgeJitter,
      idleTimeout: o.idleTimeout,
      acquireTimeout: o.acquireTimeout,
      createTimeout: Infinity, // connectTimeout bounds a connection, with a GrpcError
      shutdownTimeout: o.shutdownTimeout,
      validateTimeout: o.healthTimeout,
      healthCheck: o.healthService === undefined ? undefined : {
        check: (pooled) => checkHealth(pooled, o.healthService!, o.healthTimeout),
        schedule: o.healthSchedule ?? Schedule.spaced("10 seconds"),
        // NOT_SERVING is the service's word, not a broken connection: the channel stays
        // connected, out of rotation, until a check finds it SERVING (as grpc's own health-checking
        // clients do); a check that fails otherwise (no answer, UNAVAILABLE) replaces the channel
        onFailure: (error) => (isNotServing(error) ? "suspend" : "evict")
      }
    })
    // the minChannels connect before make returns (up to connectTimeout; a server that is down
    // does not fail make — calls wait for it as before): a burst right after make spreads over
    // them instead of riding the first channel that became ready
    yield* Pool.awaitMin(impl.pool).pipe(Effect.timeout(o.connectTimeout === Infinity ? OptionCheck.MAX_TIMER_MILLIS : o.connectTimeout), Effect.ignore)
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
    const call = new UnaryCall(pooled, healthPath, encodeHealthRequest, decodeHealthStatus, service, {
      metadata: new grpc.Metadata(),
      deadline: timeout === Infinity || timeout > OptionCheck.MAX_TIMER_MILLIS ? Infinity : new Date(Date.now() + timeout),
      onMetadata: undefined,
      onStatus: undefined,
      waitForReady: undefined,
      interceptors: undefined,
      providers: undefined,
      compress: undefined
    }, (result, status) => {
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
