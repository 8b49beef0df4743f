/**
 * Real worker files for the tests, written at test time under test/.workers/ (inside the package,
 * so that a worker module can import `effect` and `@effect-pool/worker`), and real-time waits
 * for what threads do on their own (start, exit) — pool timing stays on the TestClock.
 */
import { eventually, workerFiles } from "@effect-pool/testing-effect4"
import type { Effect } from "effect"

/** Worker modules and start logs under test/.workers/ (the shared kit's `workerFiles`), removed when the test process exits. */
export const { workerFile, startLog } = workerFiles(new URL("./.workers/", import.meta.url))

/** Threads start and exit on their own: wait for it in real time (a generous hang guard). */
export const until = (what: string, check: Effect.Effect<boolean> | (() => boolean), ms = 20_000) => eventually(what, check, ms)
