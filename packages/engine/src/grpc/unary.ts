/**
 * Unary calls on a pooled channel, grpc-js's parts of them: made on the channel itself (a
 * listener of ours) or, with interceptors, through its `Client`; per-call compression; the
 * interceptors the pool puts around the caller's. Runtime-free: each edition runs them inside
 * its own Effect (the lend-and-send loop), with its own copy of `@grpc/grpc-js`.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js"
 * import { unaryCalls } from "@effect-pool/engine/grpc/unary"
 *
 * const { UnaryCall, InterceptedUnaryCall, callOptionsOf, neverSent } = unaryCalls(grpc)
 * ```
 *
 * @internal
 */
import type * as grpc from "@grpc/grpc-js"
import { type GrpcCallModule, type GrpcInterceptModule, guarded, messageOf, type ParsedCall, requestGuard } from "./callOptions.js"
import type { PooledChannel } from "./channel.js"

/** The part of `@grpc/grpc-js` unary calls need: the edition's copy. */
export interface GrpcUnaryModule extends GrpcInterceptModule, GrpcCallModule {}

/** A method of a service definition (what interceptor providers are given). */
export type Method = grpc.MethodDefinition<any, any>

/** A channel-level call (grpc-js's `Call` from `call-interface`, not the surface `grpc.Call`). */
type ChannelCall = ReturnType<grpc.Channel["createCall"]>

/** grpc-js's `WriteFlags.NoCompress` (call-interface.ts; not exported): this message is sent uncompressed. */
const NO_COMPRESS = 2

/** One call in flight: sent once, cancelled at most once (CANCELLED "Cancelled on client"). */
export interface UnaryCallHandle {
  send(): void
  cancel(): void
}

/** Called once with the call's final status, and its response when the status is OK. */
export type UnaryDone = (status: grpc.StatusObject, response: unknown) => void

/** What `unaryCalls` makes. */
export interface UnaryCalls {
  /** One call made on the channel itself (grpc-js's listener API, no `Client`). */
  readonly UnaryCall: new(
    pooled: PooledChannel,
    path: string,
    serialize: (value: any) => Buffer,
    deserialize: (bytes: Buffer) => any,
    request: unknown,
    options: ParsedCall,
    done: UnaryDone
  ) => UnaryCallHandle
  /** One call through the channel's `Client`, where grpc-js runs the call's interceptors. */
  readonly InterceptedUnaryCall: new(
    pooled: PooledChannel,
    method: Method,
    request: unknown,
    options: ParsedCall,
    done: UnaryDone
  ) => UnaryCallHandle
  /** grpc-js `CallOptions` of a call made through a `Client` (streams, intercepted unary calls). */
  readonly callOptionsOf: (method: Method, options: ParsedCall) => grpc.CallOptions
  /** The status says the call never reached a server: sending it elsewhere cannot run it twice. */
  readonly neverSent: (status: grpc.StatusObject) => boolean
}

/**
 * The unary-call parts on `module` (the edition's `@grpc/grpc-js`):
 * - `UnaryCall`: one call on a channel, with what grpc-js's `Client.makeUnaryRequest` promises;
 * - `InterceptedUnaryCall`: one through the channel's `Client`, where grpc-js runs interceptors;
 * - `callOptionsOf`: grpc-js `CallOptions` of a call made through a `Client` (streams too);
 * - `neverSent`: a status that says the call never reached a server (safe to send elsewhere).
 */
export const unaryCalls = (module: GrpcUnaryModule): UnaryCalls => {
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
        call.cancelWithStatus(module.status.INTERNAL, `Request message serialization failure: ${messageOf(error)}`)
      }
      if (bytes !== undefined) call.sendMessageWithContext(this.options.compress === false ? { flags: NO_COMPRESS } : {}, bytes)
      call.halfClose()
    }

    cancel(): void {
      this.call.cancelWithStatus(module.status.CANCELLED, "Cancelled on client")
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
      this.readFailure = { code: module.status.INTERNAL, details, metadata: new module.Metadata() }
      this.call.cancelWithStatus(module.status.INTERNAL, details)
    }
    onReceiveMessage(bytes: Buffer): void {
      if (this.received) {
        this.call.cancelWithStatus(module.status.UNIMPLEMENTED, "Too many responses received")
        return
      }
      this.received = true
      try {
        this.response = this.deserialize(bytes)
      } catch (error) {
        const details = `Response message parsing error: ${messageOf(error)}`
        this.readFailure = { code: module.status.INTERNAL, details, metadata: new module.Metadata() }
        this.call.cancelWithStatus(module.status.INTERNAL, details)
        return
      }
      // read on, as grpc-js's Client does: grpc-js reports the status only once nothing is left to
      // read, so a second response (the server's fault) must be read to be refused
      this.call.startRead()
    }
    onReceiveStatus(status: grpc.StatusObject): void {
      const thrown = guarded(this.options.onStatus, status)
      if (thrown !== undefined && this.readFailure === undefined) {
        const details = `onStatus threw: ${messageOf(thrown)}`
        this.readFailure = { code: module.status.INTERNAL, details, metadata: status.metadata }
      }
      if (this.readFailure !== undefined) this.done(this.readFailure, undefined)
      else if (status.code === module.status.OK && !this.received) {
        this.done({ code: module.status.UNIMPLEMENTED, details: "No message received", metadata: status.metadata }, undefined)
      } else this.done(status, this.response)
    }
  }

  /** A call's messages uncompressed: the `NoCompress` write flag on each, below the caller's interceptors. */
  class UncompressedCall extends module.InterceptingCall {
    override sendMessageWithContext(context: Parameters<grpc.InterceptingCall["sendMessageWithContext"]>[0], message: unknown): void {
      super.sendMessageWithContext({ ...context, flags: (context.flags ?? 0) | NO_COMPRESS }, message)
    }
  }
  const uncompressed: grpc.Interceptor = (options, nextCall) => new UncompressedCall(nextCall(options))

  /**
   * Innermost on an intercepted unary call: reads on after each response. grpc-js's `Client` reads
   * one and reports the status only once nothing is left to read, so a second response (the
   * server's fault) hung the call; read, it is refused UNIMPLEMENTED "Too many responses received".
   */
  class ReadOnCall extends module.InterceptingCall {
    override start(metadata: grpc.Metadata, listener?: Partial<grpc.InterceptingListener>): void {
      super.start(metadata, {
        onReceiveMetadata: (received) => listener?.onReceiveMetadata?.(received),
        onReceiveMessage: (message) => {
          listener?.onReceiveMessage?.(message)
          this.startRead()
        },
        onReceiveStatus: (status) => listener?.onReceiveStatus?.(status)
      })
    }
  }
  const readOn: grpc.Interceptor = (options, nextCall) => new ReadOnCall(nextCall(options))

  /** Outermost, around the caller's interceptors: see the engine's `requestGuard`. */
  const guard: grpc.Interceptor = requestGuard(module)

  /**
   * The call's interceptors as grpc-js takes them: its own (providers asked here, with the method),
   * then, for `compress: false`, the one that flags every message. `undefined`: none.
   */
  const interceptorsOf = (method: Method, options: ParsedCall): Array<grpc.Interceptor> | undefined => {
    const provided = options.interceptors ?? options.providers?.map((provide) => provide(method)).filter((f) => typeof f === "function")
    // the caller's behind the guard that turns a throw while sending a message into the call's failure
    const own = provided === undefined || provided.length === 0 ? undefined : [guard, ...provided]
    if (options.compress !== false) return own
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
      const callOptions = callOptionsOf(method, options)
      callOptions.interceptors = [...(callOptions.interceptors ?? []), readOn]
      const call = this.pooled.client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, this.request, options.metadata, callOptions, (error, response) => {
        result = { error, response }
      })
      this.call = call
      call.on("metadata", (metadata: grpc.Metadata) => {
        const thrown = guarded(options.onMetadata, metadata)
        if (thrown !== undefined && this.failure === undefined) {
          const details = `onMetadata threw: ${messageOf(thrown)}`
          this.failure = { code: module.status.INTERNAL, details, metadata: new module.Metadata() }
          call.cancel()
        }
      })
      // grpc-js calls the callback, then emits the status
      call.on("status", (status: grpc.StatusObject) => {
        const thrown = guarded(options.onStatus, status)
        if (thrown !== undefined && this.failure === undefined) {
          this.failure = { code: module.status.INTERNAL, details: `onStatus threw: ${messageOf(thrown)}`, metadata: status.metadata }
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

  /**
   * Failed before a stream reached the server: the channel's picker had no connection for it
   * (grpc-js reports that as UNAVAILABLE "No connection established"), so sending it again
   * elsewhere cannot run it twice.
   */
  const neverSent = (status: grpc.StatusObject): boolean =>
    status.code === module.status.UNAVAILABLE && /No connection established/.test(status.details)

  return { UnaryCall, InterceptedUnaryCall, callOptionsOf, neverSent }
}
