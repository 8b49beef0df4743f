/**
 * `npm run start:effect3` (or `npm start -- --edition 3`): the order application on the Effect 3
 * edition — four pools composed in one layer graph (HTTP catalogue, worker-thread pricing,
 * Postgres, gRPC fulfilment), faults injected half-way, a live view, and a summary checked
 * against the database. Exits non-zero if an order was lost or stored twice. The flags, the view
 * and the summary are the Effect 4 app's (text.ts).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { runApp } from "./run.js"
import { interruptedLine, parseMain, startLines, succeeded, summaryLines } from "./text.js"

const options = parseMain()
if (options !== undefined) {
  for (const line of startLines("Effect 3", options)) console.log(line)
  runApp(options).pipe(
    Effect.flatMap((report) =>
      Effect.sync(() => {
        for (const line of summaryLines(report)) console.log(line)
        if (!succeeded(report)) process.exitCode = 1
      })
    ),
    // Ctrl-C interrupts the application: every pool closes (threads ended, sockets and
    // connections closed) and the local servers stop before the process exits
    Effect.onInterrupt(() => Effect.sync(() => console.log(interruptedLine))),
    NodeRuntime.runMain
  )
}
