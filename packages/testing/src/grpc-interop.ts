/**
 * gRPC's interop server (packages/testing/interop/server.mjs, `grpc.testing.TestService` on
 * grpc-js; see interop/README.md there) in a child process, for both editions' interop cases:
 * started on a port the OS picks on 127.0.0.1, ready when it reports the port bound (its first
 * stdout line), stopped with SIGTERM. No effect import.
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const serverPath = fileURLToPath(new URL("../interop/server.mjs", import.meta.url))

/** The `grpc.testing` proto the interop server and cases use (see interop/README.md). */
export const interopProtoPath = fileURLToPath(new URL("../interop/proto/test.proto", import.meta.url))
const protoPath = interopProtoPath

/**
 * grpc.testing's service constructors, loaded as the server loads them (field names as in the
 * proto), made with this kit's `@grpc/grpc-js`. A root with a grpc-js of its own (the Effect 4
 * edition) remakes them with its copy, whose channels refuse another copy's credentials:
 * `grpc.makeClientConstructor(TestService.service, "TestService")`.
 */
export const loadTestProto = (): { TestService: grpc.ServiceClientConstructor; UnimplementedService: grpc.ServiceClientConstructor } => {
  const definition = protoLoader.loadSync(protoPath, { keepCase: true, defaults: true, enums: String, longs: Number })
  return (grpc.loadPackageDefinition(definition) as any).grpc.testing
}

export interface ServerEvent {
  readonly event: string
  readonly method?: string
  readonly port?: number
}

export interface InteropServer {
  readonly target: string
  /** What the server reported, in order. */
  readonly events: ReadonlyArray<ServerEvent>
  /** Resolves at the first event from index `from` on that matches (rejects after 10 s). */
  readonly waitFor: (predicate: (event: ServerEvent) => boolean, from?: number) => Promise<ServerEvent>
  readonly close: () => Promise<void>
}

export const startInteropServer = (): Promise<InteropServer> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [serverPath], { stdio: ["pipe", "pipe", "inherit"] })
    const events: Array<ServerEvent> = []
    const waiters = new Set<() => void>()
    let exited = false
    const exit = new Promise<void>((done) =>
      child.once("exit", (code, signal) => {
        exited = true
        done()
        reject(new Error(`interop server exited before it listened (code ${code}, signal ${signal})`))
      })
    )
    child.once("error", reject)
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let event: ServerEvent
      try {
        event = JSON.parse(line)
      } catch {
        return
      }
      events.push(event)
      for (const waiter of waiters) waiter()
      if (event.event === "listening") {
        resolve({
          target: `127.0.0.1:${event.port}`,
          events,
          waitFor: (predicate, from = 0) =>
            new Promise((found, fail) => {
              const check = () => {
                const event = events.slice(from).find(predicate)
                if (event === undefined) return false
                waiters.delete(waiter)
                clearTimeout(timer)
                found(event)
                return true
              }
              const waiter = () => void check()
              const timer = setTimeout(() => {
                waiters.delete(waiter)
                fail(new Error(`the interop server reported no such event; it reported ${JSON.stringify(events.slice(from))}`))
              }, 10_000)
              waiters.add(waiter)
              check()
            }),
          close: async () => {
            if (!exited) child.kill("SIGTERM")
            await exit
          }
        })
      }
    })
  })
