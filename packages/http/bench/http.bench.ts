/**
 * HTTP benchmark: small GETs against a server in another process, at concurrency 1 and 50, cap
 * of 8 connections. Our HttpPool (through @effect/platform's HttpClient) against undici's Pool,
 * Node's keep-alive http.Agent, and @effect/platform-node's default NodeHttpClient.layer.
 * Prints requests/s, ratios and the server's peak connection count; writes bench/results/http.json.
 */
import { HttpPool } from "@effect-pool/http"
import { benchSettings, collectGarbage, effectLoop, promiseLoop, rotated, writeResults } from "@effect-pool/testing"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import * as Undici from "@effect/platform-node/Undici"
import { Effect, Layer, ManagedRuntime } from "effect"
import { spawn } from "node:child_process"
import http from "node:http"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const CAP = 8
const CEILING = "ceiling: HttpClient over undici Pool itself"
const opsFor = (concurrency: number) => Math.round((concurrency === 1 ? 3_000 : 20_000) * benchSettings.scale)

interface Contender {
  readonly name: string
  /** The contender's own server (its connection counts are its own) and its control port. */
  readonly origin: string
  readonly control: string
  readonly run: (ops: number, concurrency: number) => Promise<void>
  readonly close: () => Promise<void>
}

interface Target {
  readonly origin: string
  readonly control: string
}

const undiciPool = ({ origin, control }: Target): Contender => {
  const pool = new Undici.Pool(origin, { connections: CAP })
  return {
    origin,
    control,
    name: "undici Pool",
    run: (ops, c) => promiseLoop(ops, c, async () => {
      const { body } = await pool.request({ path: "/", method: "GET" })
      await body.text()
    }),
    close: () => pool.close()
  }
}

const nodeAgent = ({ origin, control }: Target): Contender => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CAP })
  const get = () =>
    new Promise<void>((resolve, reject) => {
      http.get(`${origin}/`, { agent }, (res) => {
        res.resume()
        res.on("end", resolve)
      }).on("error", reject)
    })
  return { origin, control, name: "node http.Agent keepAlive", run: (ops, c) => promiseLoop(ops, c, get), close: async () => agent.destroy() }
}

const effectClient = (name: string, { origin, control }: Target, layer: Layer.Layer<HttpClient.HttpClient, unknown>): Contender => {
  const runtime = ManagedRuntime.make(layer)
  const one = Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/`), (r) => r.text))
  return {
    origin,
    control,
    name,
    run: (ops, c) => runtime.runPromise(effectLoop(ops, c, () => one)),
    close: () => runtime.dispose()
  }
}

/**
 * The ceiling of any pool behind @effect/platform's HttpClient: `makeUndici` over undici's own
 * Pool (same cap), i.e. a pool that costs our side nothing. What the HttpClient pipeline leaves
 * of raw undici's rate is the most any pool plugged in there can reach.
 */
const ceiling = (target: Target): Contender => {
  const pool = new Undici.Pool(target.origin, { connections: CAP })
  const contender = effectClient(CEILING, target, Layer.succeed(HttpClient.HttpClient, NodeHttpClient.makeUndici(pool)))
  return { ...contender, close: async () => { await contender.close(); await pool.close() } }
}

const serverStats = (origin: string, path: string) =>
  new Promise<{ opened: number; open: number; peak: number }>((resolve, reject) => {
    http.get(`${origin}${path}`, { agent: false }, (res) => {
      let text = ""
      res.on("data", (d) => (text += d))
      res.on("end", () => resolve(JSON.parse(text)))
    }).on("error", reject)
  })

const servers: Array<ReturnType<typeof spawn>> = []
/** A server process of its own for each contender. */
const startServer = async (): Promise<Target> => {
  const child = spawn(process.execPath, [join(here, "server.mjs")], { stdio: ["ignore", "pipe", "inherit"] })
  servers.push(child)
  const [port, control] = await new Promise<Array<string>>((resolve) =>
    child.stdout!.once("data", (d) => resolve(String(d).trim().split(" "))))
  return { origin: `http://127.0.0.1:${port}`, control: `http://127.0.0.1:${control}` }
}

const main = async () => {
  const contenders = [
    undiciPool(await startServer()),
    nodeAgent(await startServer()),
    effectClient("@effect/platform-node NodeHttpClient.layer", await startServer(), NodeHttpClient.layer),
    effectClient("@effect/platform-node layerUndici (no cap)", await startServer(), NodeHttpClient.layerUndici),
    ceiling(await startServer()),
    effectClient("ours: HttpPool.layer", await startServer(), HttpPool.layer({ maxConnectionsPerOrigin: CAP }))
  ]
  for (const c of contenders) await c.run(200, 8) // warm up
  const results: Array<{ concurrency: number; contender: string; rps: number; peakConnections: number }> = []
  for (const concurrency of [1, 50]) {
    const ops = opsFor(concurrency)
    const best = new Map<string, { rps: number; peak: number }>()
    for (let round = 0; round < benchSettings.rounds; round++) {
      for (const c of rotated(contenders, round)) {
        collectGarbage()
        await serverStats(c.control, "/reset")
        const start = performance.now()
        await c.run(ops, concurrency)
        const rps = ops / ((performance.now() - start) / 1000)
        const { peak } = await serverStats(c.control, "/stats")
        const prev = best.get(c.name)
        best.set(c.name, { rps: Math.max(prev?.rps ?? 0, rps), peak: Math.max(prev?.peak ?? 0, peak) })
      }
    }
    const ours = best.get("ours: HttpPool.layer")!.rps
    for (const c of contenders) {
      const b = best.get(c.name)!
      results.push({ concurrency, contender: c.name, rps: b.rps, peakConnections: b.peak })
      console.log(
        `c=${String(concurrency).padEnd(3)} ${c.name.padEnd(46)} ${b.rps.toFixed(0).padStart(7)} req/s  ` +
          `ours/this ${(ours / b.rps).toFixed(2)}  server peak connections ${b.peak}`
      )
    }
    const raw = best.get("undici Pool")!.rps
    console.log(
      `c=${String(concurrency).padEnd(3)} the HttpClient pipeline leaves any pool at most ` +
        `${(best.get(CEILING)!.rps / raw).toFixed(2)}× raw undici; ours is ${(ours / best.get(CEILING)!.rps).toFixed(2)}× that ceiling`
    )
  }
  for (const c of contenders) await c.close()
  for (const child of servers) child.kill()
  writeResults(join(here, "results", "http.json"), { cap: CAP, results })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
