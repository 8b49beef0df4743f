/**
 * HTTP benchmark (Effect 4): small GETs against servers in another process, HTTP/1.1 and HTTP/2,
 * at concurrency 1 and 50, the same connection cap for every pool. Contenders, each with a
 * server process of its own (so its connection counts are its own):
 *
 * - ours: `HttpPool.layer({ maxConnectionsPerOrigin: CAP })`
 * - platform-node 4: `NodeHttpClient.layerUndiciOptions({ connections: CAP })` (undici's Agent)
 * - ceiling: the same Effect `HttpClient` (`makeUndici`) over undici's own `Pool` (same cap) —
 *   a pool that costs the Effect side nothing
 * - raw undici `Pool` without Effect, for scale
 *
 * Rounds alternate the contenders (order rotated); the figures are the median of same-round
 * ratios with their spread (lowest–highest), and each contender's median req/s.
 * Writes bench/results/http.json.
 */
import { HttpPool } from "@effect-pool/http"
import { benchSettings, collectGarbage, effectLoop, median, pairedRatio, promiseLoop, rotated, selfSignedCertificate, writeResults } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime } from "effect"
import { HttpClient } from "effect/http"
import { spawn } from "node:child_process"
import http from "node:http"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Dispatcher, Pool } from "undici"

const here = dirname(fileURLToPath(import.meta.url))
const CAP = 8
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const opsFor = (concurrency: number) => Math.round((concurrency === 1 ? 2_000 : 10_000) * benchSettings.scale)
const certificate = selfSignedCertificate()
const tls = { ca: certificate.cert }

type Protocol = "h1" | "h2"
interface Target {
  readonly origins: Record<Protocol, string>
  readonly control: string
}
interface Contender {
  readonly name: string
  readonly target: Target
  readonly run: (protocol: Protocol, ops: number, concurrency: number) => Promise<void>
  readonly close: () => Promise<void>
}

const OURS = "ours: HttpPool.layer"
const PLATFORM = "platform-node 4 layerUndiciOptions({ connections })"
const CEILING = "ceiling: makeUndici over undici Pool"
const RAW = "raw undici Pool (no Effect)"

const effectClient = (name: string, target: Target, layer: Layer.Layer<HttpClient.HttpClient, unknown>): Contender => {
  const runtime = ManagedRuntime.make(layer)
  const get = { h1: Effect.flatMap(HttpClient.get(`${target.origins.h1}/`), (r) => r.text), h2: Effect.flatMap(HttpClient.get(`${target.origins.h2}/`), (r) => r.text) }
  return {
    name,
    target,
    run: (protocol, ops, c) => runtime.runPromise(effectLoop(ops, c, () => get[protocol])),
    close: () => runtime.dispose()
  }
}

const pools = (target: Target) => ({
  h1: new Pool(target.origins.h1, { connections: CAP }),
  h2: new Pool(target.origins.h2, { connections: CAP, connect: tls })
})

const ceiling = (target: Target): Contender => {
  const pool = pools(target)
  // one dispatcher for both origins: each request goes to the Pool of its origin
  class Route extends Dispatcher {
    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return (String(opts.origin).startsWith("https:") ? pool.h2 : pool.h1).dispatch(opts, handler)
    }
  }
  const client = Effect.runSync(NodeHttpClient.makeUndici.pipe(Effect.provideService(NodeHttpClient.Dispatcher, new Route())))
  const contender = effectClient(CEILING, target, Layer.succeed(HttpClient.HttpClient, client))
  return { ...contender, close: async () => { await contender.close(); await pool.h1.close(); await pool.h2.close() } }
}

const raw = (target: Target): Contender => {
  const pool = pools(target)
  return {
    name: RAW,
    target,
    run: (protocol, ops, c) => promiseLoop(ops, c, async () => {
      const { body } = await pool[protocol].request({ path: "/", method: "GET" })
      await body.text()
    }),
    close: async () => { await pool.h1.close(); await pool.h2.close() }
  }
}

const serverStats = (control: string, path: string) =>
  new Promise<Record<Protocol, { opened: number; open: number; peak: number }>>((resolve, reject) => {
    http.get(`${control}${path}`, { agent: false }, (res) => {
      let text = ""
      res.on("data", (d) => (text += d))
      res.on("end", () => resolve(JSON.parse(text)))
    }).on("error", reject)
  })

const servers: Array<ReturnType<typeof spawn>> = []
const startServer = async (): Promise<Target> => {
  const child = spawn(process.execPath, [join(here, "server.mjs")], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BENCH_TLS_KEY: certificate.key, BENCH_TLS_CERT: certificate.cert }
  })
  servers.push(child)
  const [h1, h2, control] = await new Promise<Array<string>>((resolve) =>
    child.stdout!.once("data", (d) => resolve(String(d).trim().split(" "))))
  return {
    origins: { h1: `http://127.0.0.1:${h1}`, h2: `https://127.0.0.1:${h2}` },
    control: `http://127.0.0.1:${control}`
  }
}

const main = async () => {
  console.log(`node ${process.version}, cap ${CAP} connections per origin, ${ROUNDS} rounds`)
  const contenders = [
    effectClient(OURS, await startServer(), HttpPool.layer({ maxConnectionsPerOrigin: CAP, tls })),
    effectClient(PLATFORM, await startServer(), NodeHttpClient.layerUndiciOptions({ connections: CAP, connect: tls })),
    ceiling(await startServer()),
    raw(await startServer())
  ]
  for (const protocol of ["h1", "h2"] as const) for (const c of contenders) await c.run(protocol, 300, 8) // warm up
  const results: Array<unknown> = []
  for (const protocol of ["h1", "h2"] as const) {
    for (const concurrency of [1, 50]) {
      const ops = opsFor(concurrency)
      const rates = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
      const peaks = new Map<string, number>()
      for (let round = 0; round < ROUNDS; round++) {
        for (const c of rotated(contenders, round)) {
          collectGarbage()
          await serverStats(c.target.control, "/reset")
          const start = performance.now()
          await c.run(protocol, ops, concurrency)
          rates.get(c.name)!.push(ops / ((performance.now() - start) / 1000))
          const stats = await serverStats(c.target.control, "/stats")
          peaks.set(c.name, Math.max(peaks.get(c.name) ?? 0, stats[protocol].peak))
        }
      }
      const ours = rates.get(OURS)!
      for (const c of contenders) {
        const r = rates.get(c.name)!
        const ratio = pairedRatio(ours, r)
        results.push({ protocol, concurrency, contender: c.name, medianRps: median(r), oursOverThis: ratio, peakConnections: peaks.get(c.name) })
        console.log(
          `${protocol} c=${String(concurrency).padEnd(3)} ${c.name.padEnd(52)} ${median(r).toFixed(0).padStart(7)} req/s  ` +
            `ours/this ${ratio.median.toFixed(2)} (${ratio.low.toFixed(2)}–${ratio.high.toFixed(2)})  peak connections ${peaks.get(c.name)}`
        )
      }
    }
  }
  for (const c of contenders) await c.close()
  for (const child of servers) child.kill()
  writeResults(join(here, "results", "http.json"), { cap: CAP, rounds: ROUNDS, results })
}

main().catch((e) => {
  console.error(e)
  for (const child of servers) child.kill()
  process.exit(1)
})
