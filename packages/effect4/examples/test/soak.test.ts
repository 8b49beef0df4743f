import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const soak = fileURLToPath(new URL("../dist/soak.js", import.meta.url))

describe("soak on Effect 4 (npm run soak)", () => {
  it("one minute of orders with the four faults injected continuously: exactly once, no leak, flat heap", async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, ["--expose-gc", soak, "--minutes", "1"], { env: { ...process.env, DATABASE_URL: "" }, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}\n${stderr}` }))
    })
    const verdicts = output.split("\n").filter((line) => /^\s+(ok|FAIL)\s/.test(line))
    expect(verdicts.length, output.slice(-3000)).toBe(4)
    expect(verdicts.filter((line) => line.includes("FAIL")), output.slice(-3000)).toEqual([])
    expect(output).toMatch(/soak: 1\.\d min, \d+ orders, \d+ faults injected \(Effect 4, Node 2\d\./)
    expect(code).toBe(0)
  }, 300_000)
})
