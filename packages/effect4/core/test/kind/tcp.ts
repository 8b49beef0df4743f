import { Pool } from "@effect-pool/core"
import { Effect, Exit } from "effect"
import { connect, type Socket } from "node:net"

/** A pool of TCP connections to one server: the whole kind is its lifecycle and its protocol. */
export const makeTcpPool = (port: number, host = "127.0.0.1", max = 4) =>
  Pool.make({
    name: `tcp://${host}:${port}`,
    max,
    // the function form receives the item's handle: the socket invalidates itself on close
    acquire: (item: Pool.ItemHandle) =>
      Effect.acquireRelease(
        Effect.callback<Socket, Error>((resume) => {
          const socket = connect(port, host)
          socket.once("connect", () => resume(Effect.succeed(socket)))
          socket.on("error", (error) => {
            item.invalidate()
            resume(Effect.fail(error)) // only the first resume counts
          })
          socket.on("close", () => item.invalidate()) // closed by the server: never lent again
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
  })

/** One line out, one reply back, on a pooled socket: no fiber per request. */
export const request = (pool: Pool.Pool<Socket, Error>, line: string) =>
  Effect.callback<string, Error | Pool.BorrowError>((resume) => {
    const borrow = Pool.unsafeBorrow(pool, (held, failure) => {
      if (held === undefined) return resume(Effect.failCause(failure!))
      held.value.once("data", (reply) => {
        held.return(Exit.void) // the next waiter sends at once, in this tick
        resume(Effect.succeed(reply.toString()))
      })
      held.value.write(line)
    })
    return Effect.sync(() => {
      // interrupted mid-request: a reply may still come, so that socket is not reused
      if (borrow.state === "held") borrow.invalidate()
      borrow.cancel()
    })
  })
