/**
 * The channel rules both pg editions check before a LISTEN or NOTIFY is sent.
 */
import { describe, expect, it } from "vitest"
import { channelProblem } from "../../src/pg/channel.js"

describe("channelProblem", () => {
  it("a string without NUL, 1 to 63 UTF-8 bytes, is a channel", () => {
    for (const ok of ["orders", "d".repeat(63), "é".repeat(31) + "x", "Mixed Case \"quoted\""]) expect(channelProblem(ok)).toBeUndefined()
  })
  it("names each refusal", () => {
    expect(channelProblem(1)).toBe("must be a string, got number")
    expect(channelProblem(null)).toBe("must be a string, got null")
    expect(channelProblem("")).toBe("must not be empty")
    expect(channelProblem("a\u0000b")).toBe("must not contain a NUL character")
    expect(channelProblem("d".repeat(64))).toBe("must not exceed 63 UTF-8 bytes (Postgres' name limit), got 64")
    expect(channelProblem("é".repeat(32))).toBe("must not exceed 63 UTF-8 bytes (Postgres' name limit), got 64")
  })
})
