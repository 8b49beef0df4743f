/**
 * Per-call arguments, checked before a call borrows anything: a bad metadata key or value, an
 * unparsable `timeout`, an invalid `deadline` or an unknown option is a typed `GrpcError`
 * INVALID_ARGUMENT returned by the call, never a throw inside a callback of the pool's or
 * grpc-js's (where it would be a defect, a leaked stream slot, or the process's end).
 *
 * @internal
 */
import { OptionCheck } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import type * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import { GrpcError } from "../GrpcError.js"

/** Options of one call. */
export interface CallOptions {
  readonly metadata?: grpc.Metadata | Readonly<Record<string, string | Buffer>> | undefined
  /** A `Date` (or ms since the epoch); past it the call fails DEADLINE_EXCEEDED. */
  readonly deadline?: Date | number | undefined
  /** A `Duration` from now (`0`: the deadline is now; `Infinity`: none). */
  readonly timeout?: Duration.Input | undefined
  /** The server's initial metadata (grpc-js's `metadata` event). */
  readonly onMetadata?: ((metadata: grpc.Metadata) => void) | undefined
  /** The call's final status with trailing metadata, on success too (grpc-js's `status` event). */
  readonly onStatus?: ((status: grpc.StatusObject) => void) | undefined
  /**
   * Wait for a connection instead of failing fast: `false` fails the call UNAVAILABLE as soon as
   * the pool cannot connect, `true` waits until a channel is READY (or `acquireTimeout`, or the
   * deadline). [the pool's `waitForReady`, or a grpc-js `Metadata`'s `waitForReady` option]
   */
  readonly waitForReady?: boolean | undefined
  /** grpc-js client interceptors for this call, outermost first (grpc-js's `CallOptions.interceptors`). */
  readonly interceptors?: ReadonlyArray<grpc.Interceptor> | undefined
  /** grpc-js interceptor providers for this call (not together with `interceptors`, as in grpc-js). */
  readonly interceptor_providers?: ReadonlyArray<grpc.InterceptorProvider> | undefined
  /**
   * `false`: send this call's messages uncompressed on a pool whose channels compress
   * (`channelOptions["grpc.default_compression_algorithm"]`), grpc-js's per-message `NoCompress`
   * write flag. `true` asks for the pool's algorithm (INVALID_ARGUMENT on a pool without one).
   * [true where the pool compresses]
   */
  readonly compress?: boolean | undefined
}

/** The keys `CallOptions` has. */
const callKeys = ["metadata", "deadline", "timeout", "onMetadata", "onStatus", "waitForReady", "interceptors", "interceptor_providers", "compress"]
/** grpc-js's `CallOptions` names for what ours are called here. */
const callAliases: Record<string, string> = { interceptorProviders: "interceptor_providers", compression: "compress" }

/** A call's options, checked and normalised. */
export interface ParsedCall {
  readonly metadata: grpc.Metadata
  readonly deadline: grpc.Deadline
  readonly onMetadata: ((metadata: grpc.Metadata) => void) | undefined
  readonly onStatus: ((status: grpc.StatusObject) => void) | undefined
  /** `undefined`: the pool's default. */
  readonly waitForReady: boolean | undefined
  /** Set when the call has any (non-empty). */
  readonly interceptors: ReadonlyArray<grpc.Interceptor> | undefined
  readonly providers: ReadonlyArray<grpc.InterceptorProvider> | undefined
  /** `undefined`: the pool's channels decide. */
  readonly compress: boolean | undefined
}

/** No options: the pool's defaults, no deadline (a call passes a `metadata` of its own: grpc-js adds to it). */
export const noCallOptions: ParsedCall = {
  metadata: new grpc.Metadata(),
  deadline: Infinity,
  onMetadata: undefined,
  onStatus: undefined,
  waitForReady: undefined,
  interceptors: undefined,
  providers: undefined,
  compress: undefined
}

/** `undefined` or an array of functions; empty is `undefined`. */
const functions = <F>(check: OptionCheck.Checker, option: string, input: unknown): ReadonlyArray<F> | undefined => {
  if (input === undefined) return undefined
  if (!Array.isArray(input)) check.fail(option, `must be an array of functions, got ${OptionCheck.describeValue(input)}`)
  const array = input as Array<unknown>
  array.forEach((f, i) => {
    if (typeof f !== "function") check.fail(`${option}[${i}]`, `must be a function, got ${OptionCheck.describeValue(f)}`)
  })
  return array.length === 0 ? undefined : [...(array as Array<F>)]
}

/** The typed error of a bad call argument. */
export const invalidArgument = (option: string, reason: string): GrpcError => {
  const details = `invalid call option ${option}: ${reason}`
  return new GrpcError({ code: grpc.status.INVALID_ARGUMENT, details, metadata: undefined, message: `INVALID_ARGUMENT: ${details}` })
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const metadataOf = (check: OptionCheck.Checker, input: unknown): grpc.Metadata => {
  if (input === undefined) return new grpc.Metadata()
  if (input instanceof grpc.Metadata) {
    // set() checked each entry when it was added: check again what could have bypassed it
    for (const [key, value] of Object.entries(input.getMap())) entry(check, new grpc.Metadata(), key, value)
    // the pool waits (or not) for a connection itself: grpc-js's own waitForReady would queue the
    // call on a channel whose connection is gone (and which the pool is replacing) instead
    if (input.getOptions().waitForReady === true) {
      const copy = input.clone()
      copy.setOptions({ ...input.getOptions(), waitForReady: false })
      return copy
    }
    return input
  }
  const record = check.record("metadata", input)!
  const metadata = new grpc.Metadata()
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value)) for (const one of value) entry(check, metadata, key, one, true)
    else entry(check, metadata, key, value)
  }
  return metadata
}

const entry = (check: OptionCheck.Checker, metadata: grpc.Metadata, key: string, value: unknown, add = false): void => {
  const binary = key.endsWith("-bin")
  if (binary ? !Buffer.isBuffer(value) : typeof value !== "string") {
    check.fail(`metadata["${key}"]`, `${binary ? "a -bin key takes a Buffer" : "takes a string (a Buffer only under a key ending in -bin)"}, got ${OptionCheck.describeValue(value)}`)
  }
  try {
    // grpc-js's own rules: keys of 0-9 a-z _ . -, printable ASCII values
    if (add) metadata.add(key, value as string | Buffer)
    else metadata.set(key, value as string | Buffer)
  } catch (error) {
    check.fail(`metadata["${key}"]`, messageOf(error))
  }
}

/** The latest `Date` there is: a later deadline is none. */
const MAX_DATE_MS = 8.64e15

const deadlineOf = (check: OptionCheck.Checker, deadline: unknown, timeout: unknown): grpc.Deadline => {
  let at: number = Infinity
  if (deadline !== undefined) {
    const ms = deadline instanceof Date ? deadline.getTime() : deadline
    if (typeof ms !== "number" || Number.isNaN(ms)) {
      check.fail("deadline", `must be a valid Date or ms since the epoch, got ${deadline instanceof Date ? "an invalid Date" : OptionCheck.describeValue(deadline)}`)
    }
    at = ms as number
  }
  if (timeout !== undefined) {
    const ms = check.duration("timeout", timeout, 0)
    // the earlier of the two
    at = Math.min(at, Date.now() + ms)
  }
  if (at === Infinity || at > MAX_DATE_MS) return Infinity
  return at === -Infinity ? new Date(0) : new Date(at)
}

const interceptorsOf = (check: OptionCheck.Checker, options: CallOptions) => {
  const interceptors = functions<grpc.Interceptor>(check, "interceptors", options.interceptors)
  const providers = functions<grpc.InterceptorProvider>(check, "interceptor_providers", options.interceptor_providers)
  // grpc-js throws on both (InterceptorConfigurationError): here it is the caller's argument
  if (interceptors !== undefined && providers !== undefined) check.fail("interceptor_providers", "cannot be given with interceptors (grpc-js allows only one of them)")
  return { interceptors, providers }
}

/** Checks and normalises a call's options; the `Left` is the call's result. */
export const parseCallOptions = (options: CallOptions | undefined): Result.Result<ParsedCall, GrpcError> => {
  if (options === undefined) return Result.succeed({ ...noCallOptions, metadata: new grpc.Metadata() })
  const parsed = OptionCheck.run("call", (check) => {
    check.record("options", options)
    check.known(options, callKeys, callAliases)
    return {
      metadata: metadataOf(check, options.metadata),
      deadline: deadlineOf(check, options.deadline, options.timeout),
      onMetadata: check.func<(metadata: grpc.Metadata) => void>("onMetadata", options.onMetadata),
      onStatus: check.func<(status: grpc.StatusObject) => void>("onStatus", options.onStatus),
      waitForReady: options.waitForReady === undefined
        // a grpc-js user's way of asking: new Metadata({ waitForReady: true })
        ? (options.metadata instanceof grpc.Metadata && options.metadata.getOptions().waitForReady === true ? true : undefined)
        : check.boolean("waitForReady", options.waitForReady, false),
      ...interceptorsOf(check, options),
      compress: options.compress === undefined ? undefined : check.boolean("compress", options.compress, true)
    }
  })
  return Result.isSuccess(parsed) ? Result.succeed(parsed.success) : Result.fail(invalidArgument(parsed.failure.option, parsed.failure.reason))
}

/**
 * Runs a user's callback (`onMetadata`, `onStatus`) inside a grpc-js callback: what it throws
 * is returned, never thrown into grpc-js.
 */
export const guarded = <A>(f: ((a: A) => void) | undefined, a: A): unknown => {
  if (f === undefined) return undefined
  try {
    f(a)
    return undefined
  } catch (error) {
    return error ?? new Error("undefined thrown")
  }
}

export { messageOf }
