/**
 * When an HTTP request that failed may be sent again on the same connection's fresh socket: Go's
 * `http.Transport` rule, as every edition's HTTP pool applies it. A pure decision on plain data
 * (the error codes are undici's socket errors), no Effect, no undici import.
 *
 * @example
 * ```ts
 * import { mayResend } from "@effect-pool/engine/http/resend"
 *
 * mayResend({ method: "GET", body: undefined, reused: true, error: { code: "ECONNRESET" }, responseStarted: false, aborted: false, resent: 0 }) // true
 * mayResend({ method: "POST", body: "x", reused: true, error: { code: "ECONNRESET" }, responseStarted: false, aborted: false, resent: 0 }) // false
 * ```
 * @since 0.1.0
 */

/** Methods safe to send twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])

/** Socket errors meaning the server closed (or reset) the connection. */
export const STALE: ReadonlySet<string> = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_CLOSED"])

/**
 * The errors undici reports when it refuses a request inside `dispatch` before any byte of it is
 * written (an `expect` header, a negative content-length, a body type it cannot send, an option
 * it does not take): the connection is as healthy as it was. Anything else reported inside
 * `dispatch` — a body iterable of the user's that throws as undici starts writing it — happened
 * on the wire: that connection is not reused.
 */
export const REFUSALS: ReadonlySet<string> = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"])

/** Is `error` undici refusing a request before writing it (`REFUSALS`)? */
export const isRefusal = (error: unknown): boolean => {
  const code = error !== null && typeof error === "object" ? (error as { readonly code?: unknown }).code : undefined
  return typeof code === "string" && REFUSALS.has(code)
}

/** "Sent again once on a fresh socket" (Go's rule). */
export const MAX_RESENDS = 1

/** A body that can be sent a second time (none, a string, bytes — not a stream already read). */
export const isReplayable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array

/** What is known about a failed request. */
export interface FailedRequest {
  readonly method: unknown
  /** The caller's own `idempotent: true` (undici's option) makes any method resendable. */
  readonly idempotent?: boolean | undefined
  readonly body: unknown
  /** The socket had completed a response before (a kept-alive socket the server may have closed). */
  readonly reused: boolean
  /** The error it failed with (its `code` is read). */
  readonly error: unknown
  /** A response byte arrived: the server processed it. */
  readonly responseStarted: boolean
  /** The caller aborted it. */
  readonly aborted: boolean
  /** Times it was sent again already. */
  readonly resent: number
}

/**
 * A request that failed on a reused keep-alive socket before any response byte arrived, not
 * aborted, idempotent, with a body that can be sent again, sent again fewer than
 * {@link MAX_RESENDS} times: the server closed the idle socket as we reused it, nothing of it
 * was processed.
 */
export const mayResend = (request: FailedRequest): boolean =>
  !request.aborted &&
  !request.responseStarted &&
  request.resent < MAX_RESENDS &&
  request.reused &&
  STALE.has((request.error as { code?: unknown } | null)?.code as string) &&
  (IDEMPOTENT.has(String(request.method).toUpperCase()) || request.idempotent === true) &&
  isReplayable(request.body)
