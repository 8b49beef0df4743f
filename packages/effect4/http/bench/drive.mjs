// A bare driver for instruction counts (valgrind --tool=callgrind, which does not follow the
// server child): `node bench/drive.mjs <ours|platform> <h1|h2> <concurrency> <warm-up> <ops>`
// runs <warm-up> then <ops> GETs of one contender against bench/server.mjs (another process).
// Two runs differing only in <ops> give, by difference, the instructions per request.
import { HttpPool } from "@effect-pool/http"
import { effectLoop, selfSignedCertificate } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, ManagedRuntime } from "effect"
import { HttpClient } from "effect/http"
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const [who, protocol, concurrency, warm, ops] = process.argv.slice(2)
const here = dirname(fileURLToPath(import.meta.url))
const certificate = process.env.BENCH_TLS_KEY
  ? { key: process.env.BENCH_TLS_KEY, cert: process.env.BENCH_TLS_CERT }
  : selfSignedCertificate()
const tls = { ca: certificate.cert }
const child = spawn(process.execPath.includes("valgrind") ? "node" : process.execPath, [join(here, "server.mjs")], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, BENCH_TLS_KEY: certificate.key, BENCH_TLS_CERT: certificate.cert }
})
const [h1, h2] = await new Promise((resolve) => child.stdout.once("data", (d) => resolve(String(d).trim().split(" "))))
const url = protocol === "h2" ? `https://127.0.0.1:${h2}/` : `http://127.0.0.1:${h1}/`
const layer = who === "ours"
  ? HttpPool.layer({ maxConnectionsPerOrigin: 8, tls })
  : NodeHttpClient.layerUndiciOptions({ connections: 8, connect: tls })
const runtime = ManagedRuntime.make(layer)
const get = Effect.flatMap(HttpClient.get(url), (r) => r.text)
const c = Number(concurrency)
await runtime.runPromise(effectLoop(Number(warm), c, () => get))
const cpu0 = process.cpuUsage()
await runtime.runPromise(effectLoop(Number(ops), c, () => get))
const cpu = process.cpuUsage(cpu0)
console.log(`${who} ${protocol} c=${c} ${((cpu.user + cpu.system) / Number(ops)).toFixed(1)} µs/req`)
await runtime.dispose()
child.kill()
