/**
 * The Effect 4 edition's test kit: the real local servers shared with the Effect 3 edition
 * (embedded Postgres, PgBouncer, http/https/h2, TLS, gRPC, a TCP proxy, bench statistics — none
 * imports effect) plus the few helpers that are Effect code, written for Effect 4.
 */
import { Effect } from "effect"

export * from "@effect-pool/testing/servers"

/**
 * Polls `check` every 10 ms of real time until it holds; dies naming `what` after `ms` (a hang
 * guard, not a margin). It waits with a plain timer, not `Effect.sleep`, so it also waits for
 * real things (threads, sockets) inside a test that runs on the TestClock.
 */
export const eventually = (what: string, check: Effect.Effect<boolean> | (() => boolean), ms = 5_000): Effect.Effect<void> => {
  const probe = typeof check === "function" ? Effect.sync(check) : check
  return Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (!(yield* probe)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`never happened: ${what}`))
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
  })
}

/** The messages, codes and tags along an error's `cause` chain, to match the real reason against. */
export const causeText = (error: unknown): string => {
  const parts: Array<string> = []
  let current: any = error
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    parts.push(String(current?.message ?? current), String(current?.code ?? ""), String(current?._tag ?? ""))
    current = current?.cause
  }
  return parts.join(" | ")
}

/** `ops` runs of `body` with `concurrency` fibers in flight (a plain loop, no per-run schedule). */
export const effectLoop = <X, Y, Z>(ops: number, concurrency: number, body: () => Effect.Effect<X, Y, Z>): Effect.Effect<void, Y, Z> =>
  Effect.suspend(() => {
    let next = 0
    const worker = Effect.whileLoop({ while: () => next++ < ops, body, step: () => {} })
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
  })
export * from "./http2.js"
