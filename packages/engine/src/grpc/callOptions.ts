/**
 * A gRPC call's per-call options, checked before the call borrows anything: a bad metadata key
 * or value, an unparsable `timeout`, an invalid `deadline` or an unknown option fails through
 * the engine's option checker (the edition turns it into its typed INVALID_ARGUMENT), never a
 * throw inside a callback of the pool's or grpc-js's. No Effect import; the grpc-js objects
 * (`Metadata`) are the edition's copy's (`GrpcCallModule`), so a `Metadata` made with the
 * user's grpc-js is recognised as one.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js"
 * import { Options } from "@effect-pool/engine"
 * import { parseCall } from "@effect-pool/engine/grpc/callOptions"
 *
 * const codec: Options.DurationCodec = { decode: (input) => (typeof input === "number" ? input : undefined) }
 * const parsed = Options.check(codec, (check) => parseCall(check, { metadata: { "x-id": "1" }, timeout: 500 }, grpc))
 * if (parsed._tag === "Valid") console.log(parsed.value.metadata.get("x-id")) // [ '1' ]
 * else console.log(parsed.option, parsed.reason)
 * ```
 * @since 0.1.0
 */
import type * as grpc from "@grpc/grpc-js"
import { type Checker, describeValue, messageOfThrown } from "../options.js"

/** The part of `@grpc/grpc-js` the checks need: the edition's copy (its `Metadata` class). */
export interface GrpcCallModule {
  readonly Metadata: typeof grpc.Metadata
}

/** Options of one call, as written (`D`: the edition's Duration input). */
export interface CallOptionsInput<D = unknown> {
  readonly metadata?: grpc.Metadata | Readonly<Record<string, string | Buffer>> | undefined
  /** A `Date` (or ms since the epoch); past it the call fails DEADLINE_EXCEEDED. */
  readonly deadline?: Date | number | undefined
  /** A `Duration` from now (`0`: the deadline is now; `Infinity`: none). */
  readonly timeout?: D | undefined
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

/** The keys `CallOptionsInput` has. */
export const callOptionKeys = ["metadata", "deadline", "timeout", "onMetadata", "onStatus", "waitForReady", "interceptors", "interceptor_providers", "compress"] as const
/** grpc-js's `CallOptions` names for what ours are called here. */
export const callOptionAliases: Readonly<Record<string, string>> = { interceptorProviders: "interceptor_providers", compression: "compress" }

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

/** No options: the pool's defaults, no deadline, a fresh `metadata` of `module`'s (grpc-js adds to a call's). */
export const noCall = (module: GrpcCallModule): ParsedCall => ({
  metadata: new module.Metadata(),
  deadline: Infinity,
  onMetadata: undefined,
  onStatus: undefined,
  waitForReady: undefined,
  interceptors: undefined,
  providers: undefined,
  compress: undefined
})

/** `undefined` or an array of functions; empty is `undefined`. */
const functions = <F, D>(check: Checker<D>, option: string, input: unknown): ReadonlyArray<F> | undefined => {
  if (input == null) return undefined
  if (!Array.isArray(input)) check.fail(option, `must be an array of functions, got ${describeValue(input)}`)
  const array = input as Array<unknown>
  array.forEach((f, i) => {
    if (typeof f !== "function") check.fail(`${option}[${i}]`, `must be a function, got ${describeValue(f)}`)
  })
  return array.length === 0 ? undefined : [...(array as Array<F>)]
}

/**
 * A thrown value's message, never throwing itself (a user's callback may throw anything: a value
 * whose `toString` throws, `null`); the engine's `messageOfThrown`.
 */
export const messageOf = (error: unknown): string => messageOfThrown(error)

/**
 * Reads `read()` of a caller's object (a method of theirs that may throw, a Proxy): a throw is
 * `option`'s failure, never a throw out of the call method.
 */
const readGuarded = <A, D>(check: Checker<D>, option: string, read: () => A): A => {
  try {
    return read()
  } catch (error) {
    return check.fail(option, `could not be read: ${messageOf(error)}`)
  }
}

/**
 * HTTP/2's connection-specific headers (RFC 9113 §8.2.2), which Node's http2 refuses on a request
 * (a grpc-js call with one never starts and never settles): refused as the caller's argument.
 * `te` is allowed with the value "trailers" only.
 */
const connectionHeaders: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"])

const metadataOf = <D>(check: Checker<D>, input: unknown, module: GrpcCallModule): grpc.Metadata => {
  if (input == null) return new module.Metadata()
  // a Proxy's getPrototypeOf trap runs here: what it throws is this argument's error
  if (readGuarded(check, "metadata", () => input instanceof module.Metadata)) {
    const given = input as grpc.Metadata
    // set() checked each entry when it was added: check again what could have bypassed it (the
    // caller's methods read under a guard: a subclass's getMap that throws is this argument's error)
    const entries = readGuarded(check, "metadata", () => Object.entries(given.getMap()))
    for (const [key, value] of entries) entry(check, new module.Metadata(), key, value)
    // the pool waits (or not) for a connection itself: grpc-js's own waitForReady would queue the
    // call on a channel whose connection is gone (and which the pool is replacing) instead
    return readGuarded(check, "metadata", () => {
      const options = given.getOptions()
      if (options.waitForReady !== true) return given
      const copy = given.clone()
      copy.setOptions({ ...options, waitForReady: false })
      return copy
    })
  }
  const record = check.record("metadata", input)!
  const metadata = new module.Metadata()
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value)) {
      // read once, under a guard: a Proxy's trap or an iterator of the caller's may throw
      const values = readGuarded(check, `metadata["${key}"]`, () => Array.from(value as ReadonlyArray<unknown>))
      for (const one of values) entry(check, metadata, key, one, true)
    }
    else entry(check, metadata, key, value)
  }
  return metadata
}

const entry = <D>(check: Checker<D>, metadata: grpc.Metadata, key: string, value: unknown, add = false): void => {
  const binary = key.endsWith("-bin")
  if (binary ? !Buffer.isBuffer(value) : typeof value !== "string") {
    check.fail(`metadata["${key}"]`, `${binary ? "a -bin key takes a Buffer" : "takes a string (a Buffer only under a key ending in -bin)"}, got ${describeValue(value)}`)
  }
  const lower = key.toLowerCase()
  if (connectionHeaders.has(lower) || (lower === "te" && value !== "trailers")) {
    check.fail(`metadata["${key}"]`, `is an HTTP/2 connection-specific header, which a request may not carry${lower === "te" ? " (te only as \"trailers\")" : ""}`)
  }
  try {
    // grpc-js's own rules: keys of 0-9 a-z _ . -, printable ASCII values
    if (add) metadata.add(key, value as string | Buffer)
    else metadata.set(key, value as string | Buffer)
  } catch (error) {
    check.fail(`metadata["${key}"]`, messageOf(error))
  }
}

/**
 * The furthest deadline grpc-js sends: it writes a deadline as a `grpc-timeout` of at most 8
 * digits of a unit, hours the largest (99,999,999 hours, about 11,400 years from now), and throws
 * "Deadline is too far in the future" inside the call on a later one. A later deadline is none.
 */
export const MAX_DEADLINE_FROM_NOW_MS = 99_999_999 * 3_600_000

const deadlineOf = <D>(check: Checker<D>, deadline: unknown, timeout: unknown): grpc.Deadline => {
  let at: number = Infinity
  // null is not given, as for every other option (`timeout: null` was a deadline of now)
  if (deadline != null) {
    // a Date's getTime read under a guard (a subclass's, or one patched onto it, may throw)
    const [isDate, ms] = readGuarded(check, "deadline", () => (deadline instanceof Date ? [true, deadline.getTime()] as const : [false, deadline] as const))
    if (typeof ms !== "number" || Number.isNaN(ms)) {
      check.fail("deadline", `must be a valid Date or ms since the epoch, got ${isDate ? "an invalid Date" : describeValue(deadline)}`)
    }
    at = ms as number
  }
  if (timeout != null) {
    const ms = check.duration("timeout", timeout as D, 0 as D)
    // the earlier of the two
    at = Math.min(at, Date.now() + ms)
  }
  // the limit counts from now, and the call starts later (nearer to its deadline), never earlier
  if (at === Infinity || at - Date.now() >= MAX_DEADLINE_FROM_NOW_MS) return Infinity
  return at === -Infinity ? new Date(0) : new Date(at)
}

const interceptorsOf = <D>(check: Checker<D>, options: CallOptionsInput<D>) => {
  const interceptors = functions<grpc.Interceptor, D>(check, "interceptors", options.interceptors)
  const providers = functions<grpc.InterceptorProvider, D>(check, "interceptor_providers", options.interceptor_providers)
  // grpc-js throws on both (InterceptorConfigurationError): here it is the caller's argument
  if (interceptors !== undefined && providers !== undefined) check.fail("interceptor_providers", "cannot be given with interceptors (grpc-js allows only one of them)")
  return { interceptors, providers }
}

/**
 * Checks and normalises a call's options through `check` (a failure names the option);
 * `module` is the edition's grpc-js (its `Metadata`). `undefined` is no options.
 */
export const parseCall = <D>(check: Checker<D>, input: CallOptionsInput<D> | undefined, module: GrpcCallModule): ParsedCall => {
  if (input === undefined) return noCall(module)
  // every option read once, into a copy (a caller's getter that throws is that option's error)
  const options = check.record("options", input) as CallOptionsInput<D>
  check.known(options, callOptionKeys, callOptionAliases)
  return {
    metadata: metadataOf(check, options.metadata, module),
    deadline: deadlineOf(check, options.deadline, options.timeout),
    onMetadata: check.func<(metadata: grpc.Metadata) => void>("onMetadata", options.onMetadata ?? undefined),
    onStatus: check.func<(status: grpc.StatusObject) => void>("onStatus", options.onStatus ?? undefined),
    // null is not given (the pool's), as an option's default everywhere else
    waitForReady: options.waitForReady == null
      // a grpc-js user's way of asking: new Metadata({ waitForReady: true })
      ? (readGuarded(check, "metadata", () => options.metadata instanceof module.Metadata && options.metadata.getOptions().waitForReady === true) ? true : undefined)
      : check.boolean("waitForReady", options.waitForReady, false),
    ...interceptorsOf(check, options),
    compress: options.compress == null ? undefined : check.boolean("compress", options.compress, true)
  }
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
    // null is returned as it is (its message "null"); undefined would read as "did not throw"
    return error === undefined ? new Error("undefined thrown") : error
  }
}

/** What a streaming call's user callbacks did: the first throw's details ("onStatus threw: …"), if any. */
export interface CallbackOutcome {
  details: string | undefined
  /** Which callback threw: `onMetadata`'s cancelled the call (its CANCELLED is this throw's). */
  by: "onMetadata" | "onStatus" | undefined
}

/**
 * A streaming call's `metadata` and `status` events to the user's callbacks, guarded (never a
 * throw into grpc-js). The first throw is kept in the returned outcome ("onMetadata threw: …"),
 * which the edition's call fails with (CANCELLED); a throw from `onMetadata` also cancels the
 * call. A failing status the server sent stays the call's failure over `onStatus`'s throw. `onStatus` runs before the call's end is seen (grpc-js emits `status` before a response
 * stream's `end`, and after a client-streaming call's callback), so the call can still fail.
 * Register before the edition's own `status` listener.
 */
export const listenGuarded = (
  call: { on(event: "metadata" | "status", listener: (value: any) => void): unknown; cancel(): void },
  options: Pick<ParsedCall, "onMetadata" | "onStatus">
): CallbackOutcome => {
  const outcome: CallbackOutcome = { details: undefined, by: undefined }
  const record = (callback: "onMetadata" | "onStatus", thrown: unknown): void => {
    if (thrown === undefined || outcome.details !== undefined) return
    outcome.details = `${callback} threw: ${messageOf(thrown)}`
    outcome.by = callback
  }
  if (options.onMetadata !== undefined) {
    call.on("metadata", (metadata: grpc.Metadata) => {
      const thrown = guarded(options.onMetadata, metadata)
      if (thrown === undefined) return
      record("onMetadata", thrown)
      call.cancel()
    })
  }
  if (options.onStatus !== undefined) call.on("status", (status: grpc.StatusObject) => record("onStatus", guarded(options.onStatus, status)))
  return outcome
}

/** The part of `@grpc/grpc-js` the request guard needs: the edition's copy. */
export interface GrpcInterceptModule {
  readonly InterceptingCall: typeof grpc.InterceptingCall
  readonly status: typeof grpc.status
}

/**
 * The outermost interceptor of a call that has the caller's: a message the caller's
 * interceptors throw on while sending it (their `sendMessage`, also when grpc-js sends a buffered
 * request later, inside a callback of its own) cancels the call INTERNAL "an interceptor threw: …"
 * instead of throwing into grpc-js or Node's stream.
 */
export const requestGuard = (module: GrpcInterceptModule): grpc.Interceptor => {
  class RequestGuard extends module.InterceptingCall {
    override sendMessageWithContext(context: Parameters<grpc.InterceptingCall["sendMessageWithContext"]>[0], message: unknown): void {
      try {
        super.sendMessageWithContext(context, message)
      } catch (error) {
        this.cancelWithStatus(module.status.INTERNAL, `an interceptor threw: ${messageOf(error)}`)
      }
    }
  }
  return (options, nextCall) => new RequestGuard(nextCall(options))
}

/**
 * A status as the pool reports it: a code gRPC defines (0–16) as it is; any other (a server's
 * `grpc-status` of 999, -1 or "abc", which grpc-js passes on as 999, -1 or NaN) is UNKNOWN (2),
 * its details naming what the server sent.
 */
export const knownStatus = (code: unknown, details: string): { readonly code: number; readonly details: string } => {
  if (typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 16) return { code, details }
  const sent = `the server sent an invalid grpc-status (${typeof code === "number" ? (Number.isNaN(code) ? "not a number" : String(code)) : describeValue(code)})`
  return { code: 2, details: details === "" ? sent : `${sent}: ${details}` }
}
