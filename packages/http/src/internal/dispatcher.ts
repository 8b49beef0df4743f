/**
 * An undici `Dispatcher` that lends each request one pooled connection of its origin: every
 * pooled item is an undici `Client` (one connection, no pipelining), borrowed without a fiber
 * through the core's lease API and returned when the response has ended — so the next waiting
 * request goes out in the same tick.
 *
 * @internal
 */
import { KeyedPool } from "@effect-pool/core"
import * as Undici from "@effect/platform-node/Undici"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { encodeBody } from "./body.js"

/** One pooled connection. */
export interface Connection {
  readonly client: Undici.Client
  /** Responses completed on it: > 0 means a request would reuse a kept-alive socket. */
  completed: number
  /** Set when its socket closed while idle (server idle timeout, reset…): it is then destroyed. */
  closed: boolean
  /** Lent to a request right now (its socket closing is then the request's business). */
  leased: boolean
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])
/** Socket errors meaning the server closed (or reset) the connection. */
const STALE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_CLOSED"])
/** "Retried once on a fresh connection" (the and Go's rule). */
const MAX_RETRIES = 1

type Handler = Undici.Dispatcher.DispatchHandler & Record<string, any>

const isReplayable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array

/**
 * A request that failed on a reused keep-alive connection before any response byte arrived,
 * when it is idempotent and its body can be sent again, is retried once on a fresh connection:
 * the server closed the idle socket as we reused it (Go's http.Transport does the same).
 */
const retryable = (opts: Undici.Dispatcher.DispatchOptions, connection: Connection, error: any): boolean =>
  connection.completed > 0 &&
  STALE.has(error?.code) &&
  (IDEMPOTENT.has(String(opts.method).toUpperCase()) || (opts as { idempotent?: boolean }).idempotent === true) &&
  isReplayable(opts.body)

export const originOf = (origin: string | URL | undefined): string => {
  if (origin === undefined) throw new Undici.errors.InvalidArgumentError("origin is required")
  return typeof origin === "string" ? new URL(origin).origin : origin.origin
}

/** One request through the pool: borrow, dispatch on the lease, return when it ends. */
class Exchange {
  private lease: KeyedPool.Lease<Connection> | undefined
  private cancelBorrow: (() => void) | undefined
  private innerAbort: ((reason?: Error) => void) | undefined
  private abortReason: Error | undefined
  private responseStarted = false
  private retries = 0
  private done = false

  constructor(
    private readonly pool: KeyedPool.KeyedPool<string, Connection>,
    private readonly origin: string,
    private readonly opts: Undici.Dispatcher.DispatchOptions,
    private readonly handler: Handler
  ) {}

  start(): void {
    // the caller's abort (signal, interruption) works while we wait for a connection too
    this.handler.onConnect?.((reason?: Error) => this.abort(reason))
    if (this.abortReason === undefined) this.borrow()
  }

  private borrow(): void {
    let waiting = true
    const cancel = KeyedPool.unsafeBorrow(this.pool, this.origin, (lease, failure) => {
      waiting = false
      this.cancelBorrow = undefined
      if (lease === undefined) return this.fail(Cause.squash(failure!) as Error)
      if (lease.value.closed) {
        // its socket closed while idle: nothing was sent, take another
        this.giveBack(lease, true)
        return this.borrow()
      }
      this.lease = lease
      lease.value.leased = true
      lease.value.client.dispatch(this.opts, this as unknown as Handler)
    })
    if (waiting) this.cancelBorrow = cancel
  }

  private abort(reason?: Error): void {
    if (this.done) return
    this.abortReason = reason ?? new Undici.errors.RequestAbortedError()
    if (this.cancelBorrow !== undefined) {
      this.cancelBorrow()
      this.cancelBorrow = undefined
      this.fail(this.abortReason)
    } else if (this.innerAbort !== undefined) {
      this.innerAbort(this.abortReason)
    }
  }

  private giveBack(lease: KeyedPool.Lease<Connection>, broken: boolean): void {
    lease.value.leased = false
    if (broken) KeyedPool.unsafeInvalidate(this.pool, this.origin, lease)
    KeyedPool.unsafeReturn(this.pool, this.origin, lease, Exit.void)
  }

  private fail(error: Error): void {
    if (this.done) return
    this.done = true
    this.handler.onError?.(error)
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
    const lease = this.lease!
    this.lease = undefined
    lease.value.completed++
    this.done = true
    this.giveBack(lease, lease.value.closed)
    this.handler.onComplete?.(trailers as any)
  }

  onError(error: Error): void {
    const lease = this.lease
    this.innerAbort = undefined
    if (lease === undefined) {
      this.fail(error)
      return
    }
    if (
      this.abortReason === undefined && !this.responseStarted && this.retries < MAX_RETRIES &&
      retryable(this.opts, lease.value, error)
    ) {
      // same lease, same Client: its socket is gone, so undici opens a fresh connection
      this.retries++
      lease.value.completed = 0
      lease.value.client.dispatch(this.opts, this as unknown as Handler)
      return
    }
    // an error mid-exchange leaves the connection in an unknown state: it is not reused
    this.lease = undefined
    this.giveBack(lease, true)
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
  constructor(private readonly pool: KeyedPool.KeyedPool<string, Connection>) {
    super()
  }

  override dispatch(opts: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): boolean {
    new Exchange(this.pool, originOf(opts.origin as string | URL | undefined), encodeBody(opts), handler as Handler).start()
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
