/**
 * The undici side of the pool, with no `effect` import (so it can move to the shared engine):
 * an undici 8 `Dispatcher` that lends each request a pooled connection of its origin, through
 * undici 8's controller handler API (`onRequestStart`/`onResponseStart`/`onResponseData`/
 * `onResponseEnd`/`onResponseError`).
 *
 * - HTTP/1.1: one request per connection (no pipelining); the connection is borrowed
 *   exclusively and returned when the response has ended, so the next waiter goes out in the
 *   same tick.
 * - HTTP/2 (negotiated by ALPN on `https:`): one connection carries many streams. The first
 *   request to lend it holds the pool's borrow as a *lane*; concurrent requests to the origin
 *   ride that lane up to the server's SETTINGS_MAX_CONCURRENT_STREAMS, and the borrow returns
 *   when the lane's last stream ends. While an origin's protocol is not yet known, requests
 *   after the first wait for its connection to tell (one connect), so an h2 burst opens one
 *   connection, not one per request.
 *
 * @internal
 */
import { Dispatcher, errors } from "undici"
import { Readable } from "node:stream"
import { isRefusal, isReplayable } from "@effect-pool/engine/http/resend"

/** What the dispatcher needs of one pooled connection. */
export interface Connection {
  readonly client: Dispatcher
  /** "unknown" until its first socket connected (ALPN tells). */
  protocol: "unknown" | "h1" | "h2"
  /** Responses completed on it: > 0 means a request would reuse a kept-alive connection. */
  completed: number
  /**
   * Set when its socket closed while idle (server idle timeout, reset…): it is then destroyed; or
   * when its h2 session ended with streams open (GOAWAY): no new stream goes on it.
   */
  closed: boolean
  /** h2: the streams one connection may carry at once (the server's setting, at most undici's ceiling). */
  readonly maxStreams: () => number
  /** Called once when `protocol` becomes known. */
  onProtocol: (() => void) | undefined
}

/** One borrow of the pool, as the core's `KeyedBorrow` has it. */
export interface Lease {
  readonly state: string
  readonly value: Connection
  return(): void
  invalidate(): void
  retry(): void
  cancel(): void
}

/** Borrows a connection of `origin`; `lent` runs (maybe synchronously) with it or with why not. */
export type Borrow = (origin: string, lent: (lease: Lease | undefined, failure: Error | undefined) => void) => Lease

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type Options = Dispatcher.DispatchOptions

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "QUERY"])
/** Socket errors meaning the server closed (or reset) the connection. */
const STALE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_CLOSED", "UND_ERR_INFO"])
/** "Retried once on a fresh connection" (Go's rule). */
const MAX_RETRIES = 1

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new errors.UndiciError(`request failed: ${String(error)}`)

const invalid = (message: string): Error => new errors.InvalidArgumentError(message)

/**
 * A request that failed on a reused keep-alive connection before any response byte arrived,
 * when it is idempotent and its body can be sent again, is retried once on a fresh connection:
 * the server closed the idle socket as we reused it (Go's http.Transport does the same).
 */
const retryable = (opts: Options, connection: Connection, error: any): boolean =>
  connection.completed > 0 &&
  STALE.has(error?.code) &&
  (IDEMPOTENT.has(String(opts.method).toUpperCase()) || (opts as { idempotent?: boolean }).idempotent === true) &&
  isReplayable(opts.body)

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

/** Methods that pass the method check as they are (the check's fast path). */
const COMMON_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "QUERY"])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** What undici accepts in a header value (no CR, LF, NUL or other control characters). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const INVALID_PATH = /[^\u0021-\u00ff]/

/**
 * Header names already found valid: the same few names come with every request, so each is
 * checked once. Bounded, so that a stream of distinct names cannot grow it.
 */
const validNames = new Set<string>()
const MAX_VALID_NAMES = 1024

const checkName = (name: unknown): void => {
  if (typeof name === "string" && validNames.has(name)) return
  if (typeof name !== "string" || !TOKEN.test(name)) throw invalid(`invalid header name ${JSON.stringify(String(name)).slice(0, 100)}`)
  if (validNames.size < MAX_VALID_NAMES) validNames.add(name)
}

const checkValue = (name: string, v: unknown): void => {
  if (typeof v === "string") {
    if (!HEADER_VALUE.test(v)) throw invalid(`invalid ${name} header (control characters)`)
    return
  }
  if (v === null) return
  if (typeof v === "object" || typeof v === "function" || typeof v === "symbol") throw invalid(`invalid ${name} header`)
  if (!HEADER_VALUE.test(String(v))) throw invalid(`invalid ${name} header (control characters)`)
}

const checkHeader = (name: unknown, value: unknown): void => {
  checkName(name)
  if (value === undefined || value === null) return
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkValue(name as string, value[i])
  } else {
    checkValue(name as string, value)
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
 * undici's `InvalidArgumentError`, and takes no connection.
 */
export const checkRequest = (opts: Options): void => {
  const method = opts.method as unknown
  if (!(typeof method === "string" && COMMON_METHODS.has(method))) {
    if (typeof method !== "string" || !TOKEN.test(method)) throw invalid("invalid request method")
    if (method.toUpperCase() === "CONNECT") throw invalid("the CONNECT method is not supported")
  }
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
      const record = headers as Record<string, unknown>
      const names = Object.keys(record)
      for (let i = 0; i < names.length; i++) checkHeader(names[i], record[names[i]])
    }
  }
  if (!isBodyLike(opts.body)) throw invalid("body must be a string, bytes, a stream, an iterable or form data")
}

/** A `FormData`: the global one, or undici's (what platform-node's client converts a body to). */
const isFormData = (body: unknown): body is FormData =>
  body !== null && typeof body === "object" &&
  (body as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === "FormData"

/** `headers` without `content-type`/`content-length`, plus `extra`. */
const withHeaders = (headers: Options["headers"], extra: Record<string, string>): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  const add = (key: string, value: unknown) => {
    const name = key.toLowerCase()
    if (name === "content-type" || name === "content-length" || value === undefined) return
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1])
  } else if (headers !== null && headers !== undefined && typeof (headers as any)[Symbol.iterator] === "function") {
    for (const [key, value] of headers as Iterable<[string, unknown]>) add(key, value)
  } else if (headers !== null && headers !== undefined) {
    for (const [key, value] of Object.entries(headers)) add(key, value)
  }
  return { ...out, ...extra }
}

/**
 * `opts` with a FormData body encoded (by the runtime's `Response`) as a streamed multipart body:
 * the same encoding whichever FormData class it is (the runtime's `Response` only reads its own,
 * and stringifies another undici's to "[object FormData]").
 */
export const encodeBody = (opts: Options): Options => {
  const body = opts.body as unknown
  if (!isFormData(body)) return opts
  let form: FormData = body
  if (!(body instanceof globalThis.FormData)) {
    form = new globalThis.FormData()
    for (const [name, value] of body as Iterable<[string, string | File]>) {
      if (typeof value === "string") form.append(name, value)
      else form.append(name, value, value.name)
    }
  }
  const encoded = new Response(form)
  return {
    ...opts,
    headers: withHeaders(opts.headers, { "content-type": encoded.headers.get("content-type")! }),
    body: encoded.body === null ? null : Readable.fromWeb(encoded.body as any)
  }
}

/** An h2 connection shared by the requests of one origin: one borrow, many streams. */
interface Lane {
  readonly lease: Lease
  readonly conn: Connection
  streams: number
  /** No new streams: its session failed or its socket closed; it goes when its last stream ends. */
  retired: boolean
}

/** What the dispatcher knows of one origin. */
class Origin {
  protocol: "unknown" | "h1" | "h2" = "unknown"
  /** A borrow is out to learn the protocol (unknown) or to open another h2 connection. */
  probing = false
  /** The exchange whose borrow is the probe. */
  prober: Exchange | undefined = undefined
  /** Requests waiting for the probe. */
  readonly parked: Array<Exchange> = []
  readonly lanes: Array<Lane> = []

  /** The TLS name of an `https:` origin (its host), else undefined. */
  readonly servername: string | undefined

  constructor(readonly key: string) {
    this.servername = key.startsWith("https:") ? new URL(key).hostname : undefined
  }

  openLane(): Lane | undefined {
    for (const lane of this.lanes) {
      // a lane whose session ended (GOAWAY) takes no new stream, though its last ones still run
      if (!lane.retired && !lane.conn.closed && lane.streams < lane.conn.maxStreams()) return lane
    }
    return undefined
  }

  get idle(): boolean {
    return !this.probing && this.parked.length === 0 && this.lanes.length === 0
  }
}

/** Our controller, given to the caller's handler: works before a connection is lent too. */
class OuterController implements Controller {
  inner: Controller | undefined = undefined
  private _paused = false
  private _reason: Error | null = null
  rawHeaders: Exclude<Controller["rawHeaders"], undefined> = null
  rawTrailers: Exclude<Controller["rawTrailers"], undefined> = null

  constructor(private readonly onAbort: (reason: Error) => void) {}

  get aborted(): boolean {
    return this._reason !== null
  }
  get paused(): boolean {
    return this._paused
  }
  get reason(): Error | null {
    return this._reason
  }
  abort(reason: Error): void {
    if (this._reason !== null) return
    this._reason = reason ?? new errors.RequestAbortedError()
    this.onAbort(this._reason)
  }
  pause(): void {
    this._paused = true
    this.inner?.pause()
  }
  resume(): void {
    this._paused = false
    this.inner?.resume()
  }
}

/** One request through the pool: borrow (or share an h2 lane), dispatch, give back when it ends. */
class Exchange implements Handler {
  private lease: Lease | undefined
  private lane: Lane | undefined
  private readonly controller: OuterController
  private responseStarted = false
  /** undici wrote the whole request (its body too). */
  private requestSent = false
  private redispatched = 0
  private done = false
  /** Inside the connection's `dispatch` call: an error it reports now, with no controller, is a refusal. */
  private dispatching = false
  parkedAt: Origin | undefined

  constructor(
    private readonly dispatcher: PoolDispatcher,
    readonly origin: Origin,
    private readonly opts: Options,
    private readonly handler: Handler
  ) {
    this.controller = new OuterController((reason) => this.abort(reason))
  }

  start(): void {
    // the caller can abort (signal, interruption) while it waits for a connection too
    this.handler.onRequestStart?.(this.controller, {})
    if (this.controller.aborted) return
    this.dispatcher.route(this)
  }

  get connection(): Connection | undefined {
    return this.lane?.conn ?? this.lease?.value
  }

  /** Rides `lane` (h2): one more stream on its connection. */
  ride(lane: Lane): void {
    lane.streams++
    this.lane = lane
    this.send()
  }

  /** Its borrow still waits in the pool's queue. */
  get waitingInPool(): boolean {
    return this.lease?.state === "waiting"
  }

  /** Leaves the pool's queue for a stream on `lane`, freed meanwhile. */
  switchToLane(lane: Lane): void {
    this.lease!.cancel()
    this.lease = undefined
    this.ride(lane)
  }

  /** Takes a connection of its own from the pool (h1, or the first of an h2 origin). */
  borrowOwn(): void {
    this.lease = this.dispatcher.borrow(this.origin.key, (lease, failure) => this.lent(lease, failure))
  }

  /** Called by the pool, possibly inside another request's return: it must never throw. */
  private lent(lease: Lease | undefined, failure: Error | undefined): void {
    try {
      if (lease === undefined) {
        this.dispatcher.probeFailed(this.origin, failure ?? new errors.UndiciError("no connection"))
        this.fail(asError(failure))
        return
      }
      this.lease = lease
      if (this.done || this.controller.aborted) {
        // aborted while the connection was on its way: nothing was sent
        this.lease = undefined
        lease.return()
        this.dispatcher.probeFailed(this.origin, undefined)
        this.fail(this.controller.reason ?? new errors.RequestAbortedError())
        return
      }
      const conn = lease.value
      if (conn.closed) {
        // its socket closed while idle: nothing was sent, take another
        lease.invalidate()
        lease.retry()
        return
      }
      if (conn.protocol === "h2") {
        this.lease = undefined
        this.dispatcher.laneOpened(this.origin, this, lease)
        return
      }
      if (conn.protocol === "unknown") {
        conn.onProtocol = () => this.dispatcher.learned(this.origin, this, conn)
      } else {
        this.dispatcher.learned(this.origin, undefined, conn)
      }
      this.send()
    } catch (error) {
      this.crashed(error)
    }
  }

  /** `learned`: this exchange's fresh connection turned out h2; its lease becomes a lane. */
  becomeLane(): Lane {
    const lease = this.lease!
    this.lease = undefined
    const lane: Lane = { lease, conn: lease.value, streams: 1, retired: false }
    this.lane = lane
    return lane
  }

  private send(): void {
    this.dispatching = true
    try {
      this.connection!.client.dispatch(this.opts, this)
    } catch (error) {
      this.crashed(error)
    } finally {
      this.dispatching = false
    }
  }

  /** An exception inside one of our callbacks: the request fails with it, its connection is not reused. */
  private crashed(error: unknown): void {
    this.giveBack(true)
    this.controller.inner?.abort(asError(error))
    this.fail(asError(error))
  }

  private abort(reason: Error): void {
    if (this.done) return
    if (this.parkedAt !== undefined) {
      this.dispatcher.unpark(this)
      this.fail(reason)
    } else if (this.lease?.state === "waiting") {
      this.lease.cancel()
      this.lease = undefined
      this.dispatcher.probeFailed(this.origin, undefined)
      this.fail(reason)
    } else if (this.controller.inner !== undefined) {
      this.controller.inner.abort(reason)
    }
  }

  /** The connection (or this stream of a lane) goes back, at most once; `broken`: not reused. */
  private giveBack(broken: boolean): void {
    const lane = this.lane
    if (lane !== undefined) {
      this.lane = undefined
      if (broken) lane.retired = true
      this.dispatcher.streamEnded(this.origin, lane)
      return
    }
    const lease = this.lease
    if (lease?.state !== "held") return
    this.lease = undefined
    if (broken) lease.invalidate()
    lease.return()
  }

  fail(error: Error): void {
    if (this.done) return
    this.done = true
    try {
      this.handler.onResponseError?.(this.controller, error)
    } catch {
      // the caller's handler threw on its own error: nothing of ours is held any more
    }
  }

  // --- handler of the pooled Client -------------------------------------------------------

  onRequestStart(controller: Controller, _context: unknown): void {
    this.controller.inner = controller
    if (this.controller.aborted) controller.abort(this.controller.reason!)
    else if (this.controller.paused) controller.pause()
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: any, socket: any): void {
    this.responseStarted = true
    this.done = true
    // the socket now belongs to the caller: this connection is not reused
    this.giveBack(true)
    this.handler.onRequestUpgrade?.(this.controller, statusCode, headers, socket)
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: any, statusMessage?: string): void {
    this.responseStarted = true
    this.controller.rawHeaders = _controller.rawHeaders ?? null
    this.handler.onResponseStart?.(this.controller, statusCode, headers, statusMessage)
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.handler.onResponseData?.(this.controller, chunk)
  }

  onResponseEnd(_controller: Controller, trailers: any): void {
    const conn = this.connection
    if (conn !== undefined) conn.completed++
    this.done = true
    this.controller.inner = undefined
    this.giveBack(conn?.closed === true && this.lane === undefined)
    this.handler.onResponseEnd?.(this.controller, trailers)
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.controller.inner = undefined
    const conn = this.connection
    if (conn === undefined || this.done) {
      this.fail(error)
      return
    }
    if (_controller == null && ((this.dispatching && isRefusal(error)) || (error as { code?: unknown }).code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH")) {
      // undici refused the request inside dispatch, before queueing it (an `expect` header, a
      // negative content-length, a body it cannot send, an option it does not take), or before
      // writing it (a content-length that is not the body's: no controller yet): nothing was
      // written, so the connection is as healthy as it was and goes back to be lent again. On a
      // connection not yet connected, the requests waiting to learn its protocol go their way
      if (conn.protocol === "unknown") {
        conn.onProtocol = undefined
        this.dispatcher.probeFailed(this.origin, undefined)
      }
      this.giveBack(false)
      this.fail(error)
      return
    }
    if (
      !this.controller.aborted && !this.responseStarted && this.redispatched < MAX_RETRIES &&
      retryable(this.opts, conn, error)
    ) {
      // a kept-alive connection the server had closed: nothing of the request was processed.
      // The same Client opens a fresh socket (cheaper than another pooled connection)
      this.redispatched++
      conn.completed = 0
      if (this.lane !== undefined) this.lane.retired = true
      this.send()
      return
    }
    if (conn.protocol === "unknown") {
      // its connect failed (or it was aborted while connecting): the requests parked behind it
      // fail with the same connect error, or go their way after an abort
      conn.onProtocol = undefined
      this.dispatcher.probeFailed(this.origin, this.controller.aborted ? undefined : error)
    }
    // an error mid-exchange leaves an h1 connection in an unknown state: it is not reused. An h2
    // stream error leaves the session as it was, unless the session itself failed
    // A request body (a stream, an iterable) that failed or was cut off while undici sent it
    // leaves its h2 stream open at the server (undici 8 does not reset it: each such request
    // kept one of the server's stream slots for good): the connection takes no new stream and
    // closes once its other streams finish, which frees them at the server
    const uploadCut = this.lane !== undefined && !this.requestSent && !isReplayable(this.opts.body)
    const sessionFailed = this.lane === undefined || uploadCut || STALE.has((error as { code?: string }).code ?? "")
    this.giveBack(sessionFailed)
    this.fail(error)
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.()
  }

  onBodySent(chunk: Buffer): void {
    this.handler.onBodySent?.(chunk)
  }

  onRequestSent(): void {
    this.requestSent = true
    this.handler.onRequestSent?.()
  }
}

/** Origins remembered at most (their protocol); the oldest quiet one is forgotten past this. */
const MAX_ORIGINS = 10_000

/** The pool's dispatcher: routes each request to its origin's connections. */
export class PoolDispatcher extends Dispatcher {
  private readonly origins = new Map<string, Origin>()

  constructor(
    readonly borrow: Borrow,
    /** One TLS name for every `https:` origin (`tls.servername`), else the origin's host. */
    private readonly servername: string | undefined
  ) {
    super()
  }

  override dispatch(opts: Options, handler: Handler): boolean {
    let exchange: Exchange
    try {
      if (handler === null || typeof handler !== "object") throw invalid("handler must be an object")
      if (opts === null || typeof opts !== "object") throw invalid("opts must be an object")
      // a known origin string (what platform-node passes: `url.origin`) skips the URL parse
      const known = typeof opts.origin === "string" ? this.origins.get(opts.origin) : undefined
      const origin = known ?? this.originState(originOf(opts.origin))
      checkRequest(opts)
      const encoded = encodeBody(opts)
      // one TLS name per origin, whatever a request's Host header says: undici would otherwise
      // reconnect, and name the TLS peer, after that header (the connector pins the name too)
      const pinned = origin.servername !== undefined
        ? { ...encoded, servername: this.servername ?? origin.servername }
        : encoded
      exchange = new Exchange(this, origin, pinned, handler)
    } catch (error) {
      // nothing borrowed yet: the request fails, typed, at once
      if (typeof handler?.onResponseError !== "function") throw error
      handler.onResponseError(null as unknown as Controller, asError(error))
      return false
    }
    exchange.start()
    return true
  }

  /** The protocol of every origin that told it. */
  protocols(): ReadonlyMap<string, "h1" | "h2"> {
    const out = new Map<string, "h1" | "h2">()
    for (const [key, origin] of this.origins) if (origin.protocol !== "unknown") out.set(key, origin.protocol)
    return out
  }

  private originState(key: string): Origin {
    let origin = this.origins.get(key)
    if (origin === undefined) {
      if (this.origins.size >= MAX_ORIGINS) {
        for (const [k, o] of this.origins) {
          if (o.idle) {
            this.origins.delete(k)
            break
          }
        }
      }
      origin = new Origin(key)
      this.origins.set(key, origin)
    }
    return origin
  }

  /** Where a new exchange goes: a lane with a free stream, the probe's queue, or a borrow of its own. */
  route(exchange: Exchange): void {
    const origin = exchange.origin
    if (origin.protocol === "h1") {
      exchange.borrowOwn()
      return
    }
    const lane = origin.protocol === "h2" ? origin.openLane() : undefined
    if (lane !== undefined) {
      exchange.ride(lane)
      return
    }
    if (origin.probing) {
      exchange.parkedAt = origin
      origin.parked.push(exchange)
      return
    }
    origin.probing = true
    origin.prober = exchange
    exchange.borrowOwn()
  }

  unpark(exchange: Exchange): void {
    const origin = exchange.parkedAt!
    exchange.parkedAt = undefined
    const i = origin.parked.indexOf(exchange)
    if (i >= 0) origin.parked.splice(i, 1)
  }

  /** The parked requests go their way (the probe told, or failed without a reason to share). */
  private release(origin: Origin): void {
    if (origin.parked.length === 0) return
    const parked = origin.parked.splice(0)
    for (const exchange of parked) {
      exchange.parkedAt = undefined
      this.route(exchange)
    }
  }

  /** A fresh or reused connection told its protocol. `exchange`: its h2 lease becomes a lane. */
  learned(origin: Origin, exchange: Exchange | undefined, conn: Connection): void {
    conn.onProtocol = undefined
    if (conn.protocol === "h2" && exchange !== undefined) {
      origin.protocol = "h2"
      origin.lanes.push(exchange.becomeLane())
      this.probeDone(origin, exchange)
      this.release(origin)
      return
    }
    origin.protocol = conn.protocol === "h2" ? "h2" : "h1"
    if (origin.protocol === "h1") {
      this.probeDone(origin, exchange)
      this.release(origin)
    }
  }

  /** The probe (of `exchange`, when it was the prober) has told. */
  private probeDone(origin: Origin, exchange: Exchange | undefined): void {
    if (exchange === undefined || origin.prober === exchange) {
      origin.probing = false
      origin.prober = undefined
    }
  }

  /** A pooled connection lent to `exchange` is h2 already: it becomes a lane, the parked ride it. */
  laneOpened(origin: Origin, exchange: Exchange, lease: Lease): void {
    origin.protocol = "h2"
    this.probeDone(origin, exchange)
    const lane: Lane = { lease, conn: lease.value, streams: 0, retired: false }
    origin.lanes.push(lane)
    exchange.ride(lane)
    this.release(origin)
  }

  /** A probe ended without a connection: with `error` (a connect failure) the parked fail with it. */
  probeFailed(origin: Origin, error: Error | undefined): void {
    if (!origin.probing) return
    origin.probing = false
    origin.prober = undefined
    if (error === undefined) {
      this.release(origin)
      return
    }
    const parked = origin.parked.splice(0)
    for (const exchange of parked) {
      exchange.parkedAt = undefined
      exchange.fail(error)
    }
  }

  /**
   * One stream of `lane` ended: the freed stream goes to a parked request, or to the probe still
   * queued in the pool for another connection; the borrow returns with the lane's last stream.
   */
  streamEnded(origin: Origin, lane: Lane): void {
    lane.streams--
    if (lane.conn.closed) lane.retired = true
    if (!lane.retired) {
      while (origin.parked.length > 0 && lane.streams < lane.conn.maxStreams()) {
        const exchange = origin.parked.shift()!
        exchange.parkedAt = undefined
        exchange.ride(lane)
      }
      const prober = origin.prober
      if (prober?.waitingInPool && lane.streams < lane.conn.maxStreams()) {
        origin.probing = false
        origin.prober = undefined
        prober.switchToLane(lane)
      }
    }
    if (lane.streams === 0) {
      const i = origin.lanes.indexOf(lane)
      if (i >= 0) {
        origin.lanes.splice(i, 1)
        if (lane.retired) lane.lease.invalidate()
        lane.lease.return()
      }
    }
    if (origin.parked.length > 0 && !origin.probing) this.release(origin)
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

/** undici's effective h2 stream ceiling of a `Client` (min of the server's setting and its local one). */
let maxStreamsSymbol: symbol | undefined | null = null
export const undiciMaxStreams = (client: object, fallback: number): number => {
  if (maxStreamsSymbol === null) {
    maxStreamsSymbol = Object.getOwnPropertySymbols(client).find((s) => s.description === "max concurrent streams")
  }
  const value = maxStreamsSymbol === undefined ? undefined : (client as Record<symbol, unknown>)[maxStreamsSymbol]
  return typeof value === "number" && value > 0 ? value : fallback
}
