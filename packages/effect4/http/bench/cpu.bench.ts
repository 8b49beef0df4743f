/**
 * CPU time per request (Effect 4 http), the load-independent twin of `http.bench.ts`: the same
 * small GETs and servers (another process each, so their CPU is not counted), ours and
 * platform-node 4's `layerUndiciOptions({ connections: CAP })` alternating in one process; each
 * round measures `process.cpuUsage()` (user + system) around `ops` requests of one contender.
 * Prints, per case, each contender's median µs of CPU per request and the median of same-round
 * ratios theirs ÷ ours (> 1: ours costs less CPU per request).
 *
 * `BENCH_CASES=h2:1,h2:50` picks cases; `BENCH_ONLY=ours` runs ours alone (for `--cpu-prof`).
 * Run: `node --import tsx bench/cpu.bench.ts` in packages/effect4/http.
 */
import { HttpPool } from "@effect-pool/http"
import { benchSettings, collectGarbage, effectLoop, median, pairedRatio, selfSignedCertificate } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { HttpClient } from "effect/http"
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const CAP = 8
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const CASES = (process.env.BENCH_CASES ?? "h1:1,h1:50,h2:1,h2:50").split(",").map((c) => {
  const [protocol, concurrency] = c.split(":")
  return { protocol: protocol as "h1" | "h2", concurrency: Number(concurrency) }
})
const ONLY = process.env.BENCH_ONLY
const opsFor = (concurrency: number) => Math.round((concurrency === 1 ? 2_000 : 10_000) * benchSettings.scale)
const certificate = selfSignedCertificate()
const tls = { ca: certificate.cert }

const servers: Array<ReturnType<typeof spawn>> = []
const startServer = async (): Promise<{ h1: string; h2: string }> => {
  const child = spawn(process.execPath, [join(here, "server.mjs")], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BENCH_TLS_KEY: certificate.key, BENCH_TLS_CERT: certificate.cert }
  })
  servers.push(child)
  const [h1, h2] = await new Promise<Array<string>>((resolve) =>
    child.stdout!.once("data", (d) => resolve(String(d).trim().split(" "))))
  return { h1: `http://127.0.0.1:${h1}`, h2: `https://127.0.0.1:${h2}` }
}

const contender = async (name: string, layer: Layer.Layer<HttpClient.HttpClient, unknown>) => {
  const origins = await startServer()
  const runtime = ManagedRuntime.make(layer)
  const get = {
    h1: Effect.flatMap(HttpClient.get(`${origins.h1}/`), (r) => r.text),
    h2: Effect.flatMap(HttpClient.get(`${origins.h2}/`), (r) => r.text)
  }
  return {
    name,
    run: (protocol: "h1" | "h2", ops: number, c: number) => runtime.runPromise(effectLoop(ops, c, () => get[protocol])),
    close: () => runtime.dispose()
  }
}

const cpuMicros = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const main = async () => {
  const all = [
    await contender("ours", HttpPool.layer({ maxConnectionsPerOrigin: CAP, tls })),
    await contender("platform", NodeHttpClient.layerUndiciOptions({ connections: CAP, connect: tls }))
  ]
  const contenders = ONLY === undefined ? all : all.filter((c) => c.name === ONLY)
  for (const { protocol } of CASES) for (const c of contenders) await c.run(protocol, 500, 8) // warm up
  console.log(`node ${process.version}, cap ${CAP}, ${ROUNDS} rounds, load ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  for (const { protocol, concurrency } of CASES) {
    const ops = opsFor(concurrency)
    const cpu = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const c of order) {
        collectGarbage()
        const start = cpuMicros()
        await c.run(protocol, ops, concurrency)
        cpu.get(c.name)!.push((cpuMicros() - start) / ops)
      }
    }
    const line = contenders.map((c) => `${c.name} ${median(cpu.get(c.name)!).toFixed(1)} µs/req`).join("  ")
    const ratio = contenders.length === 2 ? pairedRatio(cpu.get("platform")!, cpu.get("ours")!) : undefined
    console.log(
      `${protocol} c=${String(concurrency).padEnd(3)} ${line}` +
        (ratio ? `  platform/ours ${ratio.median.toFixed(3)} (${ratio.low.toFixed(2)}–${ratio.high.toFixed(2)})` : "")
    )
  }
  for (const c of all) await c.close()
  for (const child of servers) child.kill()
}

main().catch((e) => {
  console.error(e)
  for (const child of servers) child.kill()
  process.exit(1)
})
