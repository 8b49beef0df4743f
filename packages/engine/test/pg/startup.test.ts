/**
 * The startup-value rule both pg editions check at build (application_name, options).
 */
import { describe, expect, it } from "vitest"
import { startupValueProblem } from "../../src/pg/startup.js"

describe("startupValueProblem", () => {
  it("a value without NUL, or none, can be sent", () => {
    for (const ok of [undefined, "", "billing", "-c search_path=app", "é ✓"]) expect(startupValueProblem(ok)).toBeUndefined()
  })
  it("a NUL anywhere is refused", () => {
    for (const bad of ["\u0000", "a\u0000b", "billing\u0000"]) expect(startupValueProblem(bad)).toBe("must be free of NUL bytes")
  })
})
