/**
 * `npm start`: the order application on the Effect 4 edition — four pools composed in one layer
 * graph (HTTP catalogue, worker-thread pricing, Postgres, gRPC fulfilment), faults injected
 * half-way, a live view, and a summary checked against the database. Exits non-zero if an order
 * was lost or stored twice. Same flags, view and summary as the Effect 3 app (text.ts).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { interruptedLine, parseMain, startLines, succeeded, summaryLines } from "../../../../examples/dist/app/text.js"
import { runApp } from "./run.js"

const options = parseMain()
if (options !== undefined) {
  for (const line of startLines(`Effect 4 (Node ${process.versions.node})`, options)) console.log(line)
  runApp(options).pipe(
    Effect.flatMap((report) =>
      Effect.sync(() => {
        for (const line of summaryLines(report)) console.log(line)
        if (!succeeded(report)) process.exitCode = 1
      })
    ),
    // Ctrl-C interrupts the application: every pool closes (threads ended, sockets and
    // connections closed) and the local servers stop before the process exits (code 130, runMain's)
    Effect.onInterrupt(() => Effect.sync(() => console.log(interruptedLine))),
    NodeRuntime.runMain
  )
}
