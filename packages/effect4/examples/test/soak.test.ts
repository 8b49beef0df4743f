import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { soakMinute } from "../../../../examples/test/kit/processes.js"

const soak = fileURLToPath(new URL("../dist/soak.js", import.meta.url))

describe("soak on Effect 4 (npm run soak)", () => {
  it("one minute of orders with the four faults injected continuously: exactly once, no leak, flat heap", async () => {
    const { code, output, verdicts } = await soakMinute(soak)
    expect(verdicts.length, output.slice(-3000)).toBe(4)
    expect(verdicts.filter((line) => line.includes("FAIL")), output.slice(-3000)).toEqual([])
    expect(output).toMatch(/soak: \d+\.\d min, \d+ orders, \d+ faults injected \(Effect 4, Node 2\d\./)
    expect(code).toBe(0)
  }, 300_000)
})
