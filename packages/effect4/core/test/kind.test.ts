/**
 * "Writing a kind" (README): the TCP socket pool shown there, run against a real server on
 * 127.0.0.1 — and the README shows exactly this file.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { readFileSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { Pool } from "../src/index.js"
import { makeTcpPool, request } from "./kind/tcp.js"

/** An echo server ("x" → "echo:x"); "hang" gets no reply; it can drop every connection. */
const echoServer = Effect.acquireRelease(
  Effect.callback<{ readonly server: Server; readonly port: number; readonly sockets: Set<Socket> }>((resume) => {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      socket.on("data", (data) => {
        if (data.toString() !== "hang") socket.write(`echo:${data}`)
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed({ server, port: typeof address === "object" && address ? address.port : 0, sockets }))
    })
  }),
  ({ server, sockets }) =>
    Effect.callback<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resume(Effect.void))
    })
)

/** Polls `check` on real time (the sockets' events are real I/O); a hang guard, not a margin. */
const waitFor = (what: string, check: () => boolean) => {
  const loop: Effect.Effect<void> = Effect.suspend(() =>
    check() ? Effect.void : Effect.andThen(Effect.sleep("5 millis"), loop)
  )
  return loop.pipe(Effect.timeoutOrElse({ duration: "60 seconds", orElse: () => Effect.fail(new Error(`never happened: ${what}`)) }))
}

describe("Writing a kind: a pool of TCP sockets", () => {
  it.live("serves concurrent requests on at most max sockets, reused", () =>
    Effect.gen(function*() {
      const { port } = yield* echoServer
      const pool = yield* makeTcpPool(port, "127.0.0.1", 2)
      const replies = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => `m${i}`), (m) => request(pool, m), {
        concurrency: 10
      })
      expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `echo:m${i}`))
      const stats = yield* Pool.stats(pool)
      expect(stats).toMatchObject({ created: 2, borrows: 20, borrowed: 0 })
    }).pipe(Effect.scoped))

  it.live("a socket the server closes invalidates itself and is replaced", () =>
    Effect.gen(function*() {
      const { port, sockets } = yield* echoServer
      const pool = yield* makeTcpPool(port, "127.0.0.1", 1)
      expect(yield* request(pool, "a")).toBe("echo:a")
      for (const socket of sockets) socket.destroy()
      yield* waitFor("invalidated", () => Effect.runSync(Pool.stats(pool)).invalidated === 1)
      expect(yield* request(pool, "b")).toBe("echo:b")
      expect(yield* Pool.stats(pool)).toMatchObject({ created: 2, destroyed: 1 })
    }).pipe(Effect.scoped))

  it.live("an interrupted request gives its socket up: it is not reused", () =>
    Effect.gen(function*() {
      const { port } = yield* echoServer
      const pool = yield* makeTcpPool(port, "127.0.0.1", 1)
      const hung = yield* Effect.forkChild(request(pool, "hang"))
      yield* waitFor("sent", () => Effect.runSync(Pool.stats(pool)).borrowed === 1)
      yield* Fiber.interrupt(hung)
      expect(yield* request(pool, "c")).toBe("echo:c")
      expect(yield* Pool.stats(pool)).toMatchObject({ created: 2, invalidated: 1, borrowed: 0 })
    }).pipe(Effect.scoped))

  it("is the code the README shows", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const code = readFileSync(new URL("./kind/tcp.ts", import.meta.url), "utf8")
    expect(readme).toContain(code.trim())
  })
})
