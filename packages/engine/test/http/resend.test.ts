/** The HTTP resend rule, case by case. Plain vitest, no runtime. */
import { describe, expect, it } from "vitest"
import { type FailedRequest, isReplayable, MAX_RESENDS, mayResend } from "../../src/http/resend.js"

const base: FailedRequest = { method: "GET", body: undefined, reused: true, error: { code: "ECONNRESET" }, responseStarted: false, aborted: false, resent: 0 }

describe("mayResend", () => {
  it("a GET on a reused socket reset before any response byte: once", () => {
    expect(mayResend(base)).toBe(true)
    expect(MAX_RESENDS).toBe(1)
    expect(mayResend({ ...base, resent: 1 })).toBe(false)
  })

  it("each condition on its own refuses", () => {
    expect(mayResend({ ...base, reused: false })).toBe(false)
    expect(mayResend({ ...base, responseStarted: true })).toBe(false)
    expect(mayResend({ ...base, aborted: true })).toBe(false)
    expect(mayResend({ ...base, error: { code: "ECONNREFUSED" } })).toBe(false)
    expect(mayResend({ ...base, error: new Error("no code") })).toBe(false)
    expect(mayResend({ ...base, error: null })).toBe(false)
    expect(mayResend({ ...base, error: "ECONNRESET" })).toBe(false)
    expect(mayResend({ ...base, method: "POST" })).toBe(false)
    expect(mayResend({ ...base, method: "PATCH" })).toBe(false)
  })

  it("every stale socket code, every idempotent method in any case, or the caller's idempotent flag", () => {
    for (const code of ["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_CLOSED"]) {
      expect(mayResend({ ...base, error: { code } })).toBe(true)
    }
    for (const method of ["get", "HEAD", "Options", "PUT", "DELETE", "TRACE"]) expect(mayResend({ ...base, method })).toBe(true)
    expect(mayResend({ ...base, method: "POST", idempotent: true, body: "x" })).toBe(true)
    expect(mayResend({ ...base, method: "POST", idempotent: false })).toBe(false)
  })

  it("only a body that can be sent again", () => {
    expect(isReplayable(undefined)).toBe(true)
    expect(isReplayable(null)).toBe(true)
    expect(isReplayable("text")).toBe(true)
    expect(isReplayable(new Uint8Array(2))).toBe(true)
    expect(isReplayable(Buffer.from("x"))).toBe(true)
    expect(isReplayable({ [Symbol.asyncIterator]: () => undefined })).toBe(false)
    expect(isReplayable(42)).toBe(false)
    expect(mayResend({ ...base, method: "PUT", body: { pipe: () => undefined } })).toBe(false)
  })
})
