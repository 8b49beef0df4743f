/**
 * A TCP proxy on 127.0.0.1 in front of a Postgres server that drops the server's ParameterStatus
 * messages for the parameters named: what a client of a server older than 14 sees (no
 * `in_hot_standby` at startup, no report when `default_transaction_read_only` changes). Plaintext
 * only (a TLS stream cannot be read); the client's bytes pass unchanged.
 */
import { connect, createServer, type Socket } from "node:net"

export interface ParameterFilter {
  readonly port: number
  /** ParameterStatus messages dropped so far (a test asserts > 0: the filter did its work). */
  readonly dropped: () => number
  readonly close: () => Promise<void>
}

/** The proxy to `targetPort`, dropping ParameterStatus for each of `names`. */
export const startParameterFilter = (targetPort: number, names: ReadonlyArray<string>): Promise<ParameterFilter> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>()
    let dropped = 0
    const server = createServer((client) => {
      const upstream = connect(targetPort, "127.0.0.1")
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on("close", () => {
          sockets.delete(socket)
          client.destroy()
          upstream.destroy()
        })
        socket.on("error", () => undefined)
      }
      client.on("data", (chunk) => upstream.write(chunk))
      // the server's bytes are whole messages from the first: type (1 byte), length (4, itself
      // included), body; a ParameterStatus ('S') body is name\0value\0
      let buffered = Buffer.alloc(0)
      upstream.on("data", (chunk) => {
        buffered = Buffer.concat([buffered, chunk])
        const kept: Array<Buffer> = []
        while (buffered.length >= 5) {
          const size = 1 + buffered.readInt32BE(1)
          if (buffered.length < size) break
          const message = buffered.subarray(0, size)
          buffered = buffered.subarray(size)
          if (message[0] === 0x53 && names.includes(message.toString("utf8", 5, message.indexOf(0, 5)))) dropped++
          else kept.push(message)
        }
        if (kept.length > 0) client.write(Buffer.concat(kept))
      })
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        dropped: () => dropped,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
