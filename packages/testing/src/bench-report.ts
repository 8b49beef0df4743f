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

/** The two editions' package folders: the Effect 3 edition's and the Effect 4 root's. */
const editions = [
  { label: "Effect 3", dir: join(root, "packages") },
  { label: "Effect 4", dir: join(root, "packages", "effect4") }
] as const

const read = (dir: string, pkg: string): any | undefined => {
  const results = join(dir, pkg, "bench", "results")
  if (!existsSync(results)) return undefined
  const file = readdirSync(results).find((f) => f.endsWith(".json"))
  return file === undefined ? undefined : JSON.parse(readFileSync(join(results, file), "utf8"))
}

/** The core bench's rows side by side: each "ours" row against the peers doing the same thing. */
const coreGroup = (name: string): string =>
  /200 fibers/.test(name) ? "200 fibers, 10 items" : /scoped/i.test(name) ? "Effect.scoped borrow" : "borrow + return (use)"

/** The Effect 4 pg bench's short contender names, spelled as the Effect 3 bench spells them. */
const pgContender = (name: string): string =>
  ({
    raw: "raw pg.Pool (async/await)",
    ceiling: "ceiling: SqlClient over pg.Pool",
    ours: "ours: PgPool.layer",
    "ours-mux": "ours: PgPool.layer (multiplex)",
    theirs: "@effect/sql-pg 4 PgClient.layer",
    "theirs-mux": "@effect/sql-pg 4 PgClient.layer (multiplex)"
  } as Record<string, string>)[name] ?? name

/** One kind's rows in one edition's results file. */
const rowsOf = (name: string, data: any): ReadonlyArray<Row> => {
  switch (name) {
    case "core":
      return data.rows.map((r: any) => ({ group: coreGroup(r.name), contender: r.name, value: 1e9 / r.nsPerOp }))
    case "pg":
      return data.results.map((r: any) => ({
        group: `${r.kind === "select1" ? "SELECT 1" : "PK lookup"}, c=${r.concurrency}`,
        contender: pgContender(r.contender),
        value: r.qps
      }))
    case "http":
      return data.results.map((r: any) => ({
        group: `${r.protocol ?? "h1"} c=${r.concurrency}`,
        contender: r.contender,
        value: r.rps ?? r.medianRps
      }))
    case "worker":
      return data.results.map((r: any) => ({ group: r.job, contender: r.contender, value: r.tasksPerSecond }))
    default:
      return data.results.map((r: any) => ({ group: r.job, contender: r.contender, value: r.callsPerSecond }))
  }
}

const titles: Record<string, (data: any) => string> = {
  core: () => "@effect-pool/core: borrow + return, pool of 10",
  pg: () => "@effect-pool/pg: queries through SqlClient, pool of 10",
  http: (data) => `@effect-pool/http: small GETs, ${data.cap} connections`,
  worker: (data) => `@effect-pool/worker: ${data.threads} threads`,
  grpc: (data) => `@effect-pool/grpc: unary calls, ${data.channels} channels for the pools`
}
const units: Record<string, string> = { core: "ops/s", pg: "queries/s", http: "requests/s", worker: "tasks/s", grpc: "calls/s" }

/**
 * Each kind's results from both editions, as rows of one shape: one table and one chart per kind,
 * every contender prefixed with the edition whose run measured it ("Effect 4 · ours: …").
 */
const kinds = (): Array<Kind> => {
  const found: Array<Kind> = []
  for (const name of Object.keys(titles)) {
    const runs = editions.flatMap((edition) => {
      const data = read(edition.dir, name)
      return data === undefined ? [] : [{ edition: edition.label, data }]
    })
    if (runs.length === 0) continue
    found.push({
      name,
      title: titles[name](runs[0].data),
      unit: units[name],
      date: runs.map((run) => `${run.edition} ${run.data.date.slice(0, 10)}`).join(", "),
      node: runs.map((run) => `${run.edition} ${run.data.node}`).join(", "),
      rows: runs.flatMap((run) =>
        rowsOf(name, run.data).map((row) => ({ ...row, contender: `${run.edition} · ${row.contender}` }))
      )
    })
  }
  return found
}

const editionOf = (contender: string) => contender.split(" · ")[0]
const isOurs = (contender: string) => (contender.split(" · ")[1] ?? contender).startsWith("ours")
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
      const ours = contenders.find((c) => isOurs(c) && editionOf(c) === editionOf(contender) && value(group, c) !== undefined)
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
  const version = (pkg: string, base = root, packages = join(root, "packages")) => {
    const folders = readdirSync(packages).filter((p) => p !== "effect4")
    for (const dir of [...folders.map((p) => join(packages, p, "node_modules")), join(base, "node_modules")]) {
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
  const e4 = join(root, "packages", "effect4")
  const sections: Array<string> = []
  for (const kind of found) {
    writeFileSync(join(out, `${kind.name}.svg`), await chart(kind))
    sections.push(`## ${kind.title}\n\nRuns: ${kind.date}; Node: ${kind.node}; best (or median) of the rounds (same-run ratios are what matter: absolute figures vary ±15% between runs on this machine). \`npm run bench -w @effect-pool/${kind.name}\` reruns the Effect 3 edition's, \`npm run bench -w @effect-pool/${kind.name} --prefix packages/effect4\` the Effect 4 edition's; each package README explains its contenders.\n\n![${kind.name}](${kind.name}.svg)\n\n${table(kind)}\n`)
  }
  const report = `# Benchmark report

Generated by \`npm run bench\` (every package's benchmark in both editions, then this report) from
\`packages/*/bench/results/*.json\` (Effect 3) and \`packages/effect4/*/bench/results/*.json\` (Effect 4), at commit ${commit}.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 1024 ** 3)} GiB; report written with Node ${process.version}.
Versions: effect ${version("effect")}, @effect/platform ${version("@effect/platform")}, @effect/sql-pg ${version("@effect/sql-pg")},
pg ${version("pg")}, undici ${version("undici")}, piscina ${version("piscina")}, tinypool ${version("tinypool")},
@grpc/grpc-js ${version("@grpc/grpc-js")}, grpc-gcp ${version("grpc-gcp")}, generic-pool ${version("generic-pool")}, tarn ${version("tarn")}.
Effect 4 edition: ${["effect", "@effect/sql-pg", "@effect/platform-node", "undici", "piscina", "@grpc/grpc-js"].map((pkg) => `${pkg} ${version(pkg, e4, e4)}`).join(", ")}.

Each contender is labelled with the edition whose benchmark measured it (the two editions' runs
are separate processes, often on different days: compare within an edition, and across editions
only with care). In each table a peer's cell says how many times its figure the same edition's
ours is ("ours 1.26×": ours does 1.26 times as many operations per second).

${sections.join("\n")}`
  writeFileSync(join(out, "REPORT.md"), report)
  console.log(`wrote ${join(out, "REPORT.md")} and ${found.length} charts`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
