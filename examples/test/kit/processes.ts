/**
 * Running the order application's built programs as a user does, in a process of their own —
 * shared by both editions' tests (no effect or vitest import): the Effect 4 tests import it by
 * relative path and run it on their root's Node (`process.execPath`).
 */
import { execFile, spawn } from "node:child_process"

export interface Outcome {
  readonly code: number
  readonly output: string
}

/** Runs `node [node options] script args` with an embedded Postgres (DATABASE_URL emptied) and waits for its exit. */
export const runNode = (script: string, args: ReadonlyArray<string> = [], options: { readonly env?: Record<string, string>; readonly node?: ReadonlyArray<string>; readonly timeout?: number } = {}) =>
  new Promise<Outcome>((resolve) => {
    execFile(process.execPath, [...(options.node ?? []), script, ...args], { env: { ...process.env, ...options.env, DATABASE_URL: "" }, timeout: options.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}\n${stderr}` }))
  })

/** Starts the app, waits for the event "orders are being placed" (the view prints "N placed"), sends SIGINT, and waits for the exit. */
export const interruptWhilePlacing = async (script: string): Promise<{ readonly code: number | null; readonly output: string }> => {
  const child = spawn(process.execPath, [script, "--duration", "120", "--orders", "1000000"], { env: { ...process.env, DATABASE_URL: "" } })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  await new Promise<void>((resolve) => {
    const check = () => (/[1-9]\d* placed/.test(output) ? resolve() : setTimeout(check, 50))
    check()
  })
  child.kill("SIGINT")
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)))
  return { code, output }
}

/** A one-minute soak: its output and the `ok`/`FAIL` verdict lines. */
export const soakMinute = async (script: string) => {
  const outcome = await runNode(script, ["--minutes", "1"], { node: ["--expose-gc"], timeout: 240_000 })
  return { ...outcome, verdicts: outcome.output.split("\n").filter((line) => /^\s+(ok|FAIL)\s/.test(line)) }
}
