/**
 * A TCP proxy on 127.0.0.1 that counts the connections through it, and can stop forwarding (a
 * connection that dies silently: no FIN, no RST — what a dead NAT or a cut cable looks like),
 * reset one connection, refuse new ones, or stall new ones (accepted, not forwarded until let go).
 */
import { connect, createServer, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Connections open through the proxy now. */
  readonly open: () => number
  /** Connections accepted since start. */
  readonly accepted: () => number
  /** Stop (true) forwarding bytes on every connection, existing and new; resume (false): the connections that lost bytes are reset, new ones forward. */
  readonly blackhole: (on: boolean) => void
  /** Refuse (true) new connections: each is accepted and closed at once, before any byte (existing ones carry on). */
  readonly refuseNew: (on: boolean) => void
  /**
   * Stall (true) new connections: each is accepted and held, its bytes not forwarded (a server
   * slow to take a new session); let go (false): the stalled ones connect and carry on.
   */
  readonly stallNew: (on: boolean) => void
  /** Connections stalled now (held and still open). */
  readonly stalled: () => number
  /** Resets the connection accepted last of those open now (the others carry on). */
  readonly resetNewest: () => void
  readonly close: () => Promise<void>
}

export const startTcpProxy = (targetPort: number): Promise<TcpProxy> =>
  new Promise((resolve) => {
    const pairs = new Set<[Socket, Socket]>()
    let accepted = 0
    let holes = false
    let refusing = false
    let stalling = false
    const stalled: Array<{ readonly client: Socket; readonly go: () => void }> = []
    /** Resets both sides of a connection (their "close" handlers then drop it from `pairs`). */
    const reset = (pair: [Socket, Socket]) => {
      for (const socket of pair) socket.destroy()
    }
    const server = createServer((client) => {
      if (refusing) return void client.destroy()
      if (stalling) {
        // held: what the client sends meanwhile is kept and sent once it goes on
        const early: Array<Buffer> = []
        const keep = (chunk: Buffer) => early.push(chunk)
        client.on("data", keep)
        client.on("error", () => undefined)
        stalled.push({
          client,
          go: () => {
            client.off("data", keep)
            if (!client.destroyed) forwardFrom(client, early)
          }
        })
        return
      }
      forwardFrom(client, [])
    })
    const forwardFrom = (client: Socket, early: Array<Buffer>) => {
      accepted++
      const upstream = connect(targetPort, "127.0.0.1")
      const pair: [Socket, Socket] = [client, upstream]
      pairs.add(pair)
      const forward = (from: Socket, to: Socket) =>
        from.on("data", (chunk) => {
          if (!holes) to.write(chunk)
        })
      for (const chunk of early) upstream.write(chunk)
      forward(client, upstream)
      forward(upstream, client)
      const end = () => {
        if (pairs.delete(pair)) reset(pair)
      }
      for (const socket of pair) {
        socket.on("error", end)
        socket.on("close", end)
      }
    }
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        open: () => pairs.size,
        accepted: () => accepted,
        blackhole: (on) => {
          holes = on
          // bytes dropped are gone: a connection that lost some cannot carry on, it is reset
          if (!on) for (const pair of pairs) reset(pair)
        },
        refuseNew: (on) => {
          refusing = on
        },
        stallNew: (on) => {
          stalling = on
          if (!on) for (const { go } of stalled.splice(0)) go()
        },
        stalled: () => stalled.filter((held) => !held.client.destroyed).length,
        resetNewest: () => {
          const newest = [...pairs].at(-1)
          if (newest !== undefined) reset(newest)
        },
        close: () =>
          new Promise((done) => {
            for (const pair of pairs) reset(pair)
            for (const { client } of stalled.splice(0)) client.destroy()
            server.close(() => done())
          })
      })
    })
  })
