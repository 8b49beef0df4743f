/**
 * Unary calls: made on the channel itself (a listener of our own) or, with interceptors, through
 * its `Client`; per-call compression; the lend-and-send loop that sends a call once more if it
 * never left.
 *
 * @internal
 */
import * as grpc from "@grpc/grpc-js"
import * as Effect from "effect/Effect"
import { type CallOptions, guarded, messageOf, type ParsedCall } from "./callOptions.js"
import type { PooledChannel } from "@effect-pool/engine/grpc/channel"
import { requestGuard } from "@effect-pool/engine/grpc/callOptions"
import { type CallError, internalError, toGrpcError } from "./errors.js"
import type { GrpcPoolImpl } from "./pool.js"

/** A channel-level call (grpc-js's `Call` from `call-interface`, not the surface `grpc.Call`). */
type ChannelCall = ReturnType<grpc.Channel["createCall"]>

/**
 * One unary call on a channel, with what grpc-js's `Client.makeUnaryRequest` promises: a failing
 * serializer fails the call INTERNAL, a response that does not parse fails it INTERNAL, no response
 * with OK is UNIMPLEMENTED "No message received", a second response cancels it UNIMPLEMENTED.
 * `done` gets the final status (and the response when OK) once, when grpc-js reports the status.
 */
export class UnaryCall {
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

/**
 * Innermost on an intercepted unary call: reads on after each response. grpc-js's `Client` reads
 * one and reports the status only once nothing is left to read, so a second response (the
 * server's fault) hung the call; read, it is refused UNIMPLEMENTED "Too many responses received".
 */
class ReadOnCall extends grpc.InterceptingCall {
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
const guard: grpc.Interceptor = requestGuard(grpc)

/** A method of a service definition (what interceptor providers are given). */
export type Method = grpc.MethodDefinition<any, any>

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
export const callOptionsOf = (method: Method, options: ParsedCall): grpc.CallOptions => {
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

/**
 * Failed before a stream reached the server: the channel's picker had no connection for it
 * (grpc-js reports that as UNAVAILABLE "No connection established"), so sending it again
 * elsewhere cannot run it twice.
 */
const neverSent = (status: grpc.StatusObject): boolean =>
  status.code === grpc.status.UNAVAILABLE && /No connection established/.test(status.details)

/**
 * A unary call on the least-loaded channel, sent once more elsewhere if it never left. Made on
 * the channel itself (`Channel.createCall`, what grpc-js's `Client` does underneath): the
 * `Client` layer's per-call objects (an EventEmitter, an interceptor chain, a captured stack)
 * cost a sixth of a call's CPU and nothing here needs them.
 */
export const unary = (impl: GrpcPoolImpl, method: Method, request: unknown, input: CallOptions | undefined): Effect.Effect<unknown, CallError> => {
  // every argument checked before anything is borrowed: nothing of the caller's can throw below
  const parsed = impl.parse(input)
  if (parsed._tag === "Failure") return Effect.fail(parsed.failure)
  const options = parsed.success
  const intercepted = options.interceptors !== undefined || options.providers !== undefined
  return Effect.callback<unknown, CallError>((resume) => {
    // the attempt in progress: waiting for a channel, or a call on one (interruption cancels either)
    let cancelBorrow: (() => void) | undefined
    // interruption of the call in flight: cancels it and gives its slot back
    let abandon: (() => void) | undefined
    const attempt = (retried: boolean) => {
      abandon = undefined
      let waiting = true
      const cancel = impl.lend(options, (borrowed, failure) => {
        waiting = false
        cancelBorrow = undefined
        if (borrowed === undefined) return resume(Effect.failCause(failure!))
        const pooled = borrowed.value
        const giveBack = () => {
          if (borrowed.state !== "held") return false
          pooled.calls.delete(made)
          return true
        }
        const finished = (status: grpc.StatusObject, response: unknown) => {
          // inside a grpc-js callback: nothing may throw out of here
          if (!giveBack()) return
          try {
            impl.callEnded(pooled, status.code)
            // sent again once — or, for a call that waits for a connection, as often as it takes
            if (status.code !== grpc.status.OK && (!retried || (options.waitForReady ?? impl.waitForReady)) && neverSent(status)) {
              borrowed.invalidate()
              borrowed.return()
              impl.retries++
              return attempt(true)
            }
            borrowed.return()
          } catch (error) {
            return resume(Effect.fail(internalError(error)))
          }
          resume(status.code === grpc.status.OK ? Effect.succeed(response) : Effect.fail(toGrpcError(status)))
        }
        const made = intercepted
          ? new InterceptedUnaryCall(pooled, method, request, options, finished)
          : new UnaryCall(pooled, method.path, method.requestSerialize, method.responseDeserialize, request, options, finished)
        abandon = () => {
          made.cancel() // the server sees CANCELLED
          // now, not when grpc-js reports the status: it may never (an interceptor of the
          // caller's that never starts the call, or whose listener throws, swallows it)
          if (!giveBack()) return
          try {
            impl.callEnded(pooled, grpc.status.CANCELLED)
          } finally {
            borrowed.return()
          }
        }
        try {
          pooled.calls.add(made)
          made.send()
        } catch (error) {
          // a bug, not the caller's argument (those were checked): the slot comes back all the same
          made.cancel()
          if (giveBack()) {
            borrowed.return()
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
      else abandon?.()
    })
  })
}
