/** A returned session's transaction status → ROLLBACK or not. Plain vitest, no runtime. */
import { expect, it } from "vitest"
import { needsRollback } from "../../src/pg/transaction.js"

it("idle or unknown-yet is clean; in a transaction, a failed one or anything else is rolled back", () => {
  expect(needsRollback("I")).toBe(false)
  expect(needsRollback(null)).toBe(false)
  expect(needsRollback(undefined)).toBe(false)
  expect(needsRollback("T")).toBe(true)
  expect(needsRollback("E")).toBe(true)
  expect(needsRollback("")).toBe(true)
  expect(needsRollback("i")).toBe(true)
})
