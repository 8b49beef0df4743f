/**
 * The order application's text, shared by both editions (no `effect` import): the command
 * lines of `npm start` and `npm run soak`, the live view's rows, the summary, the soak's verdicts.
 */
import { parseArgs } from "node:util"
import { type Audit, faultCounts, type PoolLine, type Tally } from "./domain.js"

/** `[#####.....]  42%` */
export const bar = (done: number, total: number, width = 30): string => {
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round((done / Math.max(total, 1)) * 100)).padStart(3)}%`
}

export interface Panel {
  readonly title: string
  readonly rows: () => ReadonlyArray<string>
}

/** Draws the panels: in place on a TTY, plain lines otherwise (CI logs, pipes). Each edition's view.ts calls it on a schedule. */
export const renderer = (panels: ReadonlyArray<Panel>, tty = process.stdout.isTTY === true) => {
  let drawn = 0
  return {
    tty,
    render: (): void => {
      const lines = panels.flatMap((panel) => [`── ${panel.title}`, ...panel.rows().map((row) => `   ${row}`)])
      if (tty) {
        const up = drawn > 0 ? `\x1b[${drawn}A` : ""
        process.stdout.write(up + lines.map((line) => `\x1b[2K${line}\n`).join(""))
        drawn = lines.length
      } else {
        process.stdout.write(`${lines.join("\n")}\n`)
      }
    }
  }
}

export const usage = `usage: npm start -- [options]

  --edition <4|3>         the Effect edition to run it on                 (default 4; npm run start:effect3 for 3)
  --duration <seconds>    stop placing orders after this long            (default 20)
  --orders <n>            stop after this many orders                     (default 1500)
  --concurrency <n>       fibers placing orders at once                   (default 16)
  --no-faults             do not inject faults half-way
  --database-url <url>    use this Postgres instead of an embedded one    (default: DATABASE_URL, else embedded)
  --metrics-port <port>   serve the pools' metrics for Prometheus on 127.0.0.1:<port>/metrics
                          (spans go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set)
  --help                  this text
`

export interface MainOptions {
  readonly duration: `${number} seconds`
  readonly orders: number
  readonly concurrency: number
  readonly faults: "half-way" | "none"
  readonly databaseUrl: string | undefined
  readonly metricsPort: number | undefined
}

const fail = (message: string, code: number): never => {
  console.error(message)
  process.exit(code)
}

const positive = (name: string, text: string, help: string): number => {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got ${text}\n\n${help}`, 2)
  return n
}

/** `npm start`'s flags; `undefined` after printing the help. Exits 2 on a bad value. */
export const parseMain = (args: ReadonlyArray<string> = process.argv.slice(2)): MainOptions | undefined => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      edition: { type: "string" },
      duration: { type: "string", default: "20" },
      orders: { type: "string", default: "1500" },
      concurrency: { type: "string", default: "16" },
      "no-faults": { type: "boolean", default: false },
      "database-url": { type: "string" },
      "metrics-port": { type: "string" },
      help: { type: "boolean", default: false }
    }
  })
  if (values.help) {
    console.log(usage)
    return undefined
  }
  return {
    duration: `${positive("duration", values.duration!, usage)} seconds` as const,
    orders: Math.round(positive("orders", values.orders!, usage)),
    concurrency: Math.round(positive("concurrency", values.concurrency!, usage)),
    faults: values["no-faults"] ? "none" : "half-way",
    databaseUrl: values["database-url"] ?? process.env.DATABASE_URL,
    metricsPort: values["metrics-port"] === undefined ? undefined : Math.round(positive("metrics-port", values["metrics-port"], usage))
  }
}

/** What `npm start` prints before it starts. */
export const startLines = (edition: string, options: MainOptions): ReadonlyArray<string> => [
  ...(options.metricsPort === undefined ? [] : [`metrics: http://127.0.0.1:${options.metricsPort}/metrics`]),
  `starting on ${edition}: ${options.databaseUrl ? "Postgres at --database-url" : "embedded Postgres"}, a catalogue HTTP service, a fulfilment gRPC service, pricing threads…`
]

export interface ViewState {
  readonly concurrency: number
  readonly orders: number
  readonly durationText: string
  readonly started: number
  readonly deadline: number
  readonly tally: Tally
  readonly pools: ReadonlyArray<PoolLine>
  readonly injected: ReadonlyArray<string>
}

const bounded = (orders: number) => orders < Number.MAX_SAFE_INTEGER

/** The live view's panel title. */
export const viewTitle = (s: Pick<ViewState, "concurrency" | "orders" | "durationText">): string =>
  `orders: ${s.concurrency} fibers placing ${bounded(s.orders) ? `up to ${s.orders} orders` : `orders for ${s.durationText}`} (HTTP catalogue → worker pricing → Postgres → gRPC)`

/** The live view's rows, now. */
export const viewRows = (s: ViewState): ReadonlyArray<string> => {
  const { tally } = s
  return [
    `${bounded(s.orders) ? bar(tally.placed, s.orders) : bar(Date.now() - s.started, s.deadline - s.started)}  ${tally.placed} placed, ${(tally.placed / Math.max(0.001, (Date.now() - s.started) / 1000)).toFixed(0)} orders/s, ${tally.retries} retries, ${tally.failed} failed`,
    ...s.pools.map((p) => `${p.pool.padEnd(11)} ${p.size} open, ${p.idle} idle, ${p.borrowed} borrowed, ${p.waiting} waiting, p99 wait ${p.p99WaitMs === Infinity ? ">16s" : `${p.p99WaitMs} ms`}`),
    s.injected.length === 0 ? "faults: none yet" : `faults injected: ${faultCounts(s.injected)}`
  ]
}

export interface SummaryInput {
  readonly seconds: number
  readonly embedded: boolean
  readonly tally: Tally
  readonly audit: Audit
  readonly exactlyOnce: boolean
  readonly faults: ReadonlyArray<string>
  readonly pools: ReadonlyArray<PoolLine>
}

/** `npm start`'s summary. */
export const summaryLines = (report: SummaryInput): ReadonlyArray<string> => {
  const { tally, audit } = report
  return [
    `\nsummary (${report.seconds.toFixed(1)} s, Postgres ${report.embedded ? "embedded" : "external"})`,
    `  orders placed: ${tally.placed} (${(tally.placed / report.seconds).toFixed(0)}/s), failed: ${tally.failed}`,
    `  stored exactly once: ${report.exactlyOnce ? "yes" : "NO"} — ${audit.stored} orders in the table, ${tally.alreadyStored} found already stored by a retry, ${audit.incomplete} incomplete`,
    `  retries: ${tally.retries}; errors the application saw, by step and type:`,
    ...[...tally.errors].sort().map(([kind, n]) => `    ${String(n).padStart(5)}  ${kind}`),
    ...(tally.errors.size === 0 ? ["        none"] : []),
    `  faults injected: ${report.faults.length === 0 ? "none" : ""}`,
    ...report.faults.map((fault) => `    ${fault}`),
    "  borrow wait per pool, of the borrows that waited (p50 / p99, ms):",
    ...report.pools.map((p) => `    ${p.pool.padEnd(11)} ${p.p50WaitMs} / ${p.p99WaitMs}`),
    "  shut down cleanly: every pool closed, servers stopped"
  ]
}

/** The summary's verdict: the exit code is 1 unless it holds. */
export const succeeded = (report: SummaryInput): boolean => report.exactlyOnce && report.tally.failed === 0

export const interruptedLine = "\ninterrupted: every pool closed, servers stopped"

export const HEAP_GROWTH_LIMIT_MB = 32

/** `npm run soak`'s flags; exits on `--help` (0) or a bad value (2). */
export const parseSoak = (args: ReadonlyArray<string> = process.argv.slice(2)) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      edition: { type: "string" },
      minutes: { type: "string", default: "1" },
      concurrency: { type: "string", default: "12" },
      "database-url": { type: "string" },
      help: { type: "boolean", default: false }
    }
  })
  if (values.help) {
    console.log("usage: npm run soak -- [--minutes N (default 1)] [--concurrency N (default 12)] [--database-url URL] (npm run soak:effect3 for the Effect 3 edition)")
    process.exit(0)
  }
  const minutes = Number(values.minutes)
  const concurrency = Number(values.concurrency)
  if (!(minutes > 0) || !(concurrency > 0)) fail("--minutes and --concurrency must be positive numbers", 2)
  return { minutes, concurrency, databaseUrl: values["database-url"] ?? process.env.DATABASE_URL }
}

/** Heap samples of the soak (after a forced GC when `--expose-gc` is on). */
export const heapSampler = () => {
  const gc = (globalThis as { gc?: () => void }).gc
  const samples: Array<{ at: number; mb: number }> = []
  const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  return {
    sample: () => {
      gc?.()
      samples.push({ at: Date.now(), mb: process.memoryUsage().heapUsed / 1024 / 1024 })
    },
    /** The heap after warm-up (the second quarter of the run) against its last quarter. */
    verdict: (started: number): [string, boolean] => {
      const span = Date.now() - started
      const warm = samples.filter((s) => s.at - started >= span * 0.25 && s.at - started < span * 0.5).map((s) => s.mb)
      const late = samples.filter((s) => s.at - started >= span * 0.75).map((s) => s.mb)
      const growth = median(late) - median(warm)
      return [
        `heap flat after warm-up: ${median(warm).toFixed(1)} MB → ${median(late).toFixed(1)} MB (limit +${HEAP_GROWTH_LIMIT_MB} MB${gc === undefined ? "; run with --expose-gc for steady samples" : ""})`,
        warm.length === 0 || late.length === 0 || growth <= HEAP_GROWTH_LIMIT_MB
      ]
    }
  }
}

export interface SoakInput {
  readonly seconds: number
  readonly tally: Tally
  readonly audit: Audit
  readonly exactlyOnce: boolean
  readonly leaks: ReadonlyArray<string>
  readonly faults: ReadonlyArray<string>
}

/** Prints the soak's report and verdicts; whether all held. */
export const soakReport = (edition: string, report: SoakInput, heap: [string, boolean]): boolean => {
  const { tally, audit } = report
  const checks: Array<[string, boolean]> = [
    [`every acknowledged order stored exactly once (${audit.stored} stored, ${tally.alreadyStored} found stored by a retry, ${audit.incomplete} incomplete)`, report.exactlyOnce],
    [`no order failed for good (${tally.failed} failed, ${tally.retries} retries)`, tally.failed === 0],
    [`no backend, connection, socket or thread left behind${report.leaks.length === 0 ? "" : `: ${report.leaks.join("; ")}`}`, report.leaks.length === 0],
    heap
  ]
  console.log(`\nsoak: ${(report.seconds / 60).toFixed(1)} min, ${tally.placed} orders, ${report.faults.length} faults injected (${edition})`)
  for (const [kind, n] of [...tally.errors].sort()) console.log(`  ${String(n).padStart(6)}  ${kind}`)
  for (const [what, ok] of checks) console.log(`  ${ok ? "ok  " : "FAIL"}  ${what}`)
  return checks.every(([, ok]) => ok)
}
