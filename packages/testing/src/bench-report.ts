/**
 * `npm run bench` ends here (or `npm run bench:report` alone): reads every package's
 * bench/results/*.json and writes examples/bench/REPORT.md — the machine and versions, one table
 * per kind (us against each peer, with the ratio) — and one SVG chart per kind, rendered from the
 * JSON by vega-lite and vega (no hand-drawn SVG).
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import * as vega from "vega"
import * as vl from "vega-lite"

interface Row {
  readonly group: string
  readonly contender: string
  /** Higher is better (operations per second). */
  readonly value: number
}

interface Kind {
  readonly name: string
  readonly title: string
  readonly unit: string
  readonly date: string
  readonly node: string
  readonly rows: ReadonlyArray<Row>
}

const root = process.cwd()
const out = join(root, "examples", "bench")

const read = (pkg: string): any | undefined => {
  const dir = join(root, "packages", pkg, "bench", "results")
  if (!existsSync(dir)) return undefined
  const file = readdirSync(dir).find((f) => f.endsWith(".json"))
  return file === undefined ? undefined : JSON.parse(readFileSync(join(dir, file), "utf8"))
}

/** The core bench's rows side by side: each "ours" row against the peers doing the same thing. */
const coreGroup = (name: string): string =>
  /200 fibers/.test(name) ? "200 fibers, 10 items" : /scoped/i.test(name) ? "Effect.scoped borrow" : "borrow + return (use)"

/** Each package's results, as rows of one shape. */
const kinds = (): Array<Kind> => {
  const found: Array<Kind> = []
  const core = read("core")
  if (core) {
    found.push({
      name: "core", title: "@effect-pool/core: borrow + return, pool of 10", unit: "ops/s", date: core.date, node: core.node,
      rows: core.rows.map((r: any) => ({ group: coreGroup(r.name), contender: r.name, value: 1e9 / r.nsPerOp }))
    })
  }
  const pg = read("pg")
  if (pg) {
    found.push({
      name: "pg", title: "@effect-pool/pg: queries through SqlClient, pool of 10", unit: "queries/s", date: pg.date, node: pg.node,
      rows: pg.results.map((r: any) => ({ group: `${r.kind === "select1" ? "SELECT 1" : "PK lookup"}, c=${r.concurrency}`, contender: r.contender, value: r.qps }))
    })
  }
  const http = read("http")
  if (http) {
    found.push({
      name: "http", title: `@effect-pool/http: small GETs, ${http.cap} connections`, unit: "requests/s", date: http.date, node: http.node,
      rows: http.results.map((r: any) => ({ group: `c=${r.concurrency}`, contender: r.contender, value: r.rps }))
    })
  }
  const worker = read("worker")
  if (worker) {
    found.push({
      name: "worker", title: `@effect-pool/worker: ${worker.threads} threads`, unit: "tasks/s", date: worker.date, node: worker.node,
      rows: worker.results.map((r: any) => ({ group: r.job, contender: r.contender, value: r.tasksPerSecond }))
    })
  }
  const grpc = read("grpc")
  if (grpc) {
    found.push({
      name: "grpc", title: `@effect-pool/grpc: unary calls, ${grpc.channels} channels for the pools`, unit: "calls/s", date: grpc.date, node: grpc.node,
      rows: grpc.results.map((r: any) => ({ group: r.job, contender: r.contender, value: r.callsPerSecond }))
    })
  }
  return found
}

const isOurs = (contender: string) => contender.startsWith("ours")
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1))

const table = (kind: Kind): string => {
  const groups = [...new Set(kind.rows.map((r) => r.group))]
  const contenders = [...new Set(kind.rows.map((r) => r.contender))]
  const value = (group: string, contender: string) => kind.rows.find((r) => r.group === group && r.contender === contender)?.value
  const lines = [
    `| ${kind.unit} | ${groups.join(" | ")} |`,
    `| --- | ${groups.map(() => "---").join(" | ")} |`
  ]
  for (const contender of contenders) {
    const cells = groups.map((group) => {
      const v = value(group, contender)
      if (v === undefined) return "—"
      const ours = contenders.find((c) => isOurs(c) && value(group, c) !== undefined)
      const o = ours === undefined ? undefined : value(group, ours)
      if (isOurs(contender) || o === undefined) return `**${fmt(v)}**`
      return `${fmt(v)} (ours ${(o / v).toFixed(2)}×)`
    })
    lines.push(`| ${contender} | ${cells.join(" | ")} |`)
  }
  return lines.join("\n")
}

const chart = async (kind: Kind): Promise<string> => {
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: kind.title, subtitle: `${kind.unit}, higher is better` },
    data: { values: kind.rows.map((r) => ({ ...r, who: isOurs(r.contender) ? "ours" : "peer" })) },
    facet: { row: { field: "group", type: "nominal", title: null, sort: null, header: { labelAngle: 0, labelAlign: "left", labelLimit: 260 } } },
    spec: {
      width: 420,
      height: { step: 16 },
      mark: "bar",
      encoding: {
        y: { field: "contender", type: "nominal", title: null, sort: null, axis: { labelLimit: 320 } },
        x: { field: "value", type: "quantitative", title: kind.unit },
        color: { field: "who", type: "nominal", scale: { domain: ["ours", "peer"], range: ["#2f6fde", "#9aa4b2"] }, legend: null }
      }
    },
    resolve: { scale: { x: "independent" } }
  }
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" })
  return view.toSVG()
}

const main = async () => {
  mkdirSync(out, { recursive: true })
  const found = kinds()
  /** A package's version where the benchmarks load it from (a package's own node_modules first). */
  const version = (pkg: string) => {
    for (const dir of [...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "node_modules")), join(root, "node_modules")]) {
      const file = join(dir, pkg, "package.json")
      if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")).version as string
    }
    return "?"
  }
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()
    } catch {
      return "?"
    }
  })()
  const sections: Array<string> = []
  for (const kind of found) {
    writeFileSync(join(out, `${kind.name}.svg`), await chart(kind))
    sections.push(`## ${kind.title}\n\nRun ${kind.date.slice(0, 10)} on Node ${kind.node}; best of the rounds (same-run ratios are what matter: absolute figures vary ±15% between runs on this machine). \`npm run bench -w @effect-pool/${kind.name}\` reruns it; its package README explains each contender.\n\n![${kind.name}](${kind.name}.svg)\n\n${table(kind)}\n`)
  }
  const report = `# Benchmark report

Generated by \`npm run bench\` (every package's benchmark, then this report) from
\`packages/*/bench/results/*.json\`, at commit ${commit}.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 1024 ** 3)} GiB; report written with Node ${process.version}.
Versions: effect ${version("effect")}, @effect/platform ${version("@effect/platform")}, @effect/sql-pg ${version("@effect/sql-pg")},
pg ${version("pg")}, undici ${version("undici")}, piscina ${version("piscina")}, tinypool ${version("tinypool")},
@grpc/grpc-js ${version("@grpc/grpc-js")}, grpc-gcp ${version("grpc-gcp")}, generic-pool ${version("generic-pool")}, tarn ${version("tarn")}.

In each table a peer's cell says how many times its figure ours is ("ours 1.26×": ours does 1.26 times as many operations per second).

${sections.join("\n")}`
  writeFileSync(join(out, "REPORT.md"), report)
  console.log(`wrote ${join(out, "REPORT.md")} and ${found.length} charts`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
