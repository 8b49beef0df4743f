/**
 * `npm start`: the order application — four pools composed in one layer graph (HTTP catalogue,
 * worker-thread pricing, Postgres, gRPC fulfilment), faults injected half-way, a live view, and
 * a summary checked against the database. Exits non-zero if an order was lost or stored twice.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { parseArgs } from "node:util"
import { runApp } from "./run.js"

const usage = `usage: npm start -- [options]

  --duration <seconds>    stop placing orders after this long            (default 20)
  --orders <n>            stop after this many orders                     (default 1500)
  --concurrency <n>       fibers placing orders at once                   (default 16)
  --no-faults             do not inject faults half-way
  --database-url <url>    use this Postgres instead of an embedded one    (default: DATABASE_URL, else embedded)
  --metrics-port <port>   serve the pools' metrics for Prometheus on 127.0.0.1:<port>/metrics
                          (spans go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set)
  --help                  this text
`

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "20" },
    orders: { type: "string", default: "1500" },
    concurrency: { type: "string", default: "16" },
    "no-faults": { type: "boolean", default: false },
    "database-url": { type: "string" },
    "metrics-port": { type: "string" },
    help: { type: "boolean", default: false }
  }
})

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got ${text}\n\n${usage}`)
    process.exit(2)
  }
  return n
}

if (values.help) {
  console.log(usage)
} else {
  const options = {
    duration: `${positive("duration", values.duration!)} seconds`,
    orders: Math.round(positive("orders", values.orders!)),
    concurrency: Math.round(positive("concurrency", values.concurrency!)),
    faults: values["no-faults"] ? "none" : "half-way",
    databaseUrl: values["database-url"] ?? process.env.DATABASE_URL,
    metricsPort: values["metrics-port"] === undefined ? undefined : Math.round(positive("metrics-port", values["metrics-port"]))
  } as const
  if (options.metricsPort !== undefined) console.log(`metrics: http://127.0.0.1:${options.metricsPort}/metrics`)
  console.log(`starting: ${options.databaseUrl ? "Postgres at --database-url" : "embedded Postgres"}, a catalogue HTTP service, a fulfilment gRPC service, pricing threads…`)
  runApp(options).pipe(
    Effect.flatMap((report) => Effect.sync(() => {
      const { tally, audit } = report
      console.log(`\nsummary (${report.seconds.toFixed(1)} s, Postgres ${report.embedded ? "embedded" : "external"})`)
      console.log(`  orders placed: ${tally.placed} (${(tally.placed / report.seconds).toFixed(0)}/s), failed: ${tally.failed}`)
      console.log(`  stored exactly once: ${report.exactlyOnce ? "yes" : "NO"} — ${audit.stored} orders in the table, ${tally.alreadyStored} found already stored by a retry, ${audit.incomplete} incomplete`)
      console.log(`  retries: ${tally.retries}; errors the application saw, by step and type:`)
      for (const [kind, n] of [...tally.errors].sort()) console.log(`    ${String(n).padStart(5)}  ${kind}`)
      if (tally.errors.size === 0) console.log("        none")
      console.log(`  faults injected: ${report.faults.length === 0 ? "none" : ""}`)
      for (const fault of report.faults) console.log(`    ${fault}`)
      console.log("  borrow wait per pool, of the borrows that waited (p50 / p99, ms):")
      for (const p of report.pools) console.log(`    ${p.pool.padEnd(11)} ${p.p50WaitMs} / ${p.p99WaitMs}`)
      console.log("  shut down cleanly: every pool closed, servers stopped")
      if (!report.exactlyOnce || tally.failed > 0) process.exitCode = 1
    })),
    // Ctrl-C interrupts the application: every pool closes (threads ended, sockets and
    // connections closed) and the local servers stop before the process exits
    Effect.onInterrupt(() => Effect.sync(() => console.log("\ninterrupted: every pool closed, servers stopped"))),
    NodeRuntime.runMain
  )
}
