/**
 * An undici `Dispatcher` that lends each request one pooled connection of its origin: every
 * pooled item is an undici `Client` (one connection, no pipelining), borrowed without a fiber
 * through the core's `Borrow` and returned when the response has ended — so the next waiting
 * request goes out in the same tick.
 *
 * @internal
 */
import { KeyedPool } from "@effect-pool/core"
import * as Undici from "@effect/platform-node/Undici"
import * as Cause from "effect/Cause"
import { isRefusal, mayResend } from "@effect-pool/engine/http/resend"
import { encodeBody } from "./body.js"

/** One pooled connection. */
export interface Connection {
  readonly client: Undici.Client
  /** Responses completed on it: > 0 means a request would reuse a kept-alive socket. */
  completed: number
  /** Set when its socket closed while idle (server idle timeout, reset…): it is then destroyed. */
  closed: boolean
}

type Handler = Undici.Dispatcher.DispatchHandler & Record<string, any>

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Undici.errors.UndiciError(`request failed: ${String(error)}`)

const invalid = (message: string): Error => new Undici.errors.InvalidArgumentError(message)

/** The origin a request goes to: only `http:` and `https:` (a `ws:` or `ftp:` URL fails at once, typed). */
export const originOf = (origin: unknown): string => {
  if (origin === undefined || origin === null) throw invalid("origin is required")
  let url: URL
  try {
    url = origin instanceof URL ? origin : new URL(String(origin))
  } catch {
    throw invalid(`invalid origin: ${String(origin).slice(0, 200)}`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(`unsupported protocol ${url.protocol} (HttpPool speaks http: and https:)`)
  }
  return url.origin
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** What undici accepts in a header value (no CR, LF, NUL or other control characters). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const INVALID_PATH = /[^\u0021-\u00ff]/

const checkHeader = (name: unknown, value: unknown): void => {
  if (typeof name !== "string" || !TOKEN.test(name)) throw invalid(`invalid header name ${JSON.stringify(String(name)).slice(0, 100)}`)
  if (value === undefined || value === null) return
  const values = Array.isArray(value) ? value : [value]
  for (const v of values) {
    if (v !== null && typeof v === "object") throw invalid(`invalid ${name} header`)
    if (typeof v === "function" || typeof v === "symbol") throw invalid(`invalid ${name} header`)
    if (v !== null && !HEADER_VALUE.test(String(v))) throw invalid(`invalid ${name} header (control characters)`)
  }
}

const isBodyLike = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array ||
  body instanceof ArrayBuffer || ArrayBuffer.isView(body) ||
  (typeof body === "object" && (
    typeof (body as { pipe?: unknown }).pipe === "function" ||
    typeof (body as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function" ||
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function" ||
    typeof (body as { stream?: unknown }).stream === "function" ||
    (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "FormData"
  ))

/**
 * The per-request arguments, checked before a connection is borrowed (undici would reject them
 * only once it holds one): method, path, headers, body. A bad one fails the request at once with
 * undici's `InvalidArgumentError` (a `RequestError` for HttpClient), and takes no connection.
 */
export const checkRequest = (opts: Undici.Dispatcher.DispatchOptions): void => {
  const method = opts.method as unknown
  if (typeof method !== "string" || !TOKEN.test(method)) throw invalid("invalid request method")
  if (method.toUpperCase() === "CONNECT") throw invalid("the CONNECT method is not supported")
  const path = opts.path as unknown
  if (typeof path !== "string" || path[0] !== "/" || INVALID_PATH.test(path)) throw invalid("invalid request path")
  const headers = opts.headers as unknown
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0) throw invalid("headers array must be even")
    for (let i = 0; i < headers.length; i += 2) checkHeader(headers[i], headers[i + 1])
  } else if (headers !== null && headers !== undefined) {
    if (typeof headers !== "object") throw invalid("headers must be an object or an array")
    if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of headers as Iterable<unknown>) {
        if (!Array.isArray(pair) || pair.length !== 2) throw invalid("headers must be in key-value pair format")
        checkHeader(pair[0], pair[1])
      }
    } else {
      for (const [name, value] of Object.entries(headers)) checkHeader(name, value)
    }
  }
  if (!isBodyLike(opts.body)) throw invalid("body must be a string, bytes, a stream, an iterable or form data")
}

/** One request through the pool: borrow, dispatch on the connection, return when it ends. */
class Exchange {
  private borrow: KeyedPool.KeyedBorrow<string, Connection> | undefined
  private innerAbort: ((reason?: Error) => void) | undefined
  private abortReason: Error | undefined
  private responseStarted = false
  /** Times sent again on a fresh socket of the same Client (see `mayResend`). */
  private resent = 0
  private done = false
  /** Inside the connection's `dispatch` call: an error it reports now, before `onConnect`, is a refusal. */
  private dispatching = false

  constructor(
    private readonly pool: KeyedPool.KeyedPool<string, Connection>,
    private readonly origin: string,
    private readonly opts: Undici.Dispatcher.DispatchOptions,
    private readonly handler: Handler
  ) {}

  start(): void {
    // the caller's abort (signal, interruption) works while we wait for a connection too
    this.handler.onConnect?.((reason?: Error) => this.abort(reason))
    if (this.abortReason !== undefined) return
    // every idle connection found closed is taken out and another one taken: as many as there are
    this.borrow = KeyedPool.unsafeBorrow(this.pool, this.origin, (held, failure) => this.lent(held, failure), {
      retries: Infinity
    })
  }

  /** Called by the pool, possibly inside another request's return: it must never throw. */
  private lent(held: KeyedPool.KeyedBorrow<string, Connection> | undefined, failure: Cause.Cause<unknown> | undefined): void {
    try {
      if (held === undefined) {
        this.fail(asError(failure === undefined ? undefined : Cause.squash(failure)))
        return
      }
      // an idle connection is lent inside unsafeBorrow, before it returns: held now, or an error
      // undici reports synchronously from dispatch would find no borrow to give back
      this.borrow = held
      if (this.done || this.abortReason !== undefined) {
        // aborted while the connection was on its way: nothing was sent
        held.return()
        this.fail(this.abortReason ?? new Undici.errors.RequestAbortedError())
        return
      }
      if (held.value.closed) {
        // its socket closed while idle: nothing was sent, take another
        held.invalidate()
        held.retry()
        return
      }
      this.send(held.value)
    } catch (error) {
      this.crashed(error)
    }
  }

  /** The request on `conn`'s Client; an error undici reports inside this call is a refusal. */
  private send(conn: Connection): void {
    this.dispatching = true
    try {
      conn.client.dispatch(this.opts, this as unknown as Handler)
    } finally {
      this.dispatching = false
    }
  }

  /** An exception inside one of our callbacks: the request fails with it, its connection is not reused. */
  private crashed(error: unknown): void {
    this.giveBack(true)
    this.innerAbort?.(asError(error))
    this.fail(asError(error))
  }

  private abort(reason?: Error): void {
    if (this.done) return
    this.abortReason = reason ?? new Undici.errors.RequestAbortedError()
    if (this.borrow?.state === "waiting") {
      this.borrow.cancel()
      this.fail(this.abortReason)
    } else if (this.innerAbort !== undefined) {
      this.innerAbort(this.abortReason)
    }
  }

  /** The connection goes back (at most once): `broken`, it is destroyed instead of reused. */
  private giveBack(broken: boolean): void {
    const borrow = this.borrow
    if (borrow?.state !== "held") return
    if (broken) borrow.invalidate()
    borrow.return()
  }

  private fail(error: Error): void {
    if (this.done) return
    this.done = true
    try {
      this.handler.onError?.(error)
    } catch {
      // the caller's handler threw on its own error: nothing of ours is held any more
    }
  }

  // --- handler of the pooled Client -------------------------------------------------------

  onConnect(abort: (reason?: Error) => void): void {
    this.innerAbort = abort
    if (this.abortReason !== undefined) abort(this.abortReason)
  }

  onHeaders(statusCode: number, headers: Array<Buffer>, resume: () => void, statusText: string): boolean {
    this.responseStarted = true
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true
  }

  onComplete(trailers: Array<Buffer> | null): void {
    const conn = this.borrow!.value
    conn.completed++
    this.done = true
    this.giveBack(conn.closed)
    this.handler.onComplete?.(trailers as any)
  }

  onError(error: Error): void {
    const borrow = this.borrow
    const started = this.innerAbort !== undefined
    this.innerAbort = undefined
    if (borrow?.state !== "held") {
      this.fail(error)
      return
    }
    if (this.dispatching && !started && isRefusal(error)) {
      // undici refused the request inside dispatch, before queueing it (an `expect` header, a bad
      // content-length, a body it cannot send, an option it does not take): nothing was written,
      // so the connection is as healthy as it was and goes back to be lent again
      this.giveBack(false)
      this.fail(error)
      return
    }
    const conn = borrow.value
    if (
      mayResend({
        method: this.opts.method,
        idempotent: (this.opts as { idempotent?: boolean }).idempotent,
        body: this.opts.body,
        reused: conn.completed > 0,
        error,
        responseStarted: this.responseStarted,
        aborted: this.abortReason !== undefined,
        resent: this.resent
      })
    ) {
      // a kept-alive socket the server had closed: nothing of the request was processed. The
      // same Client opens a fresh socket (cheaper than another pooled connection)
      this.resent++
      conn.completed = 0
      try {
        this.send(conn)
      } catch (e) {
        this.crashed(e)
      }
      return
    }
    // an error mid-exchange leaves the connection in an unknown state: it is not reused
    this.giveBack(true)
    this.fail(error)
  }

  onUpgrade(statusCode: number, headers: unknown, socket: unknown): void {
    this.responseStarted = true
    this.handler.onUpgrade?.(statusCode, headers as any, socket as any)
  }

  onBodySent(chunk: unknown): void {
    ;(this.handler.onBodySent as ((chunk: unknown) => void) | undefined)?.(chunk)
  }

  onRequestSent(): void {
    this.handler.onRequestSent?.()
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.()
  }
}

/** The pool's dispatcher: routes each request to its origin's pool. */
export class PoolDispatcher extends Undici.Dispatcher {
  constructor(
    private readonly pool: KeyedPool.KeyedPool<string, Connection>,
    private readonly servername: string | undefined
  ) {
    super()
  }

  override dispatch(opts: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): boolean {
    let exchange: Exchange
    try {
      if (opts === null || typeof opts !== "object") throw invalid("opts must be an object")
      const origin = originOf(opts.origin)
      checkRequest(opts)
      const encoded = encodeBody(opts)
      // one TLS name per origin, whatever a request's Host header says: undici would otherwise
      // reconnect, and name the TLS peer, after that header (the connector pins the name too)
      const pinned = origin.startsWith("https:")
        ? { ...encoded, servername: this.servername ?? new URL(origin).hostname }
        : encoded
      exchange = new Exchange(this.pool, origin, pinned, handler as Handler)
    } catch (error) {
      // nothing borrowed yet: the request fails, typed, at once
      if (typeof (handler as Handler)?.onError !== "function") throw error
      ;(handler as Handler).onError!(error as Error)
      return false
    }
    exchange.start()
    return true
  }

  // the pool's scope owns the connections: closing this view of it is a no-op
  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    if (callback) return void callback()
    return Promise.resolve()
  }

  override destroy(): Promise<void>
  override destroy(err: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(err: Error | null, callback: () => void): void
  override destroy(a?: unknown, b?: unknown): Promise<void> | void {
    const callback = typeof a === "function" ? a : typeof b === "function" ? b : undefined
    if (callback) return void (callback as () => void)()
    return Promise.resolve()
  }
}
