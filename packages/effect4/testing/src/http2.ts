/**
 * A real HTTP/2 server (TLS, ALPN `h2`, HTTP/1.1 fallback) on 127.0.0.1 that counts its
 * connections and streams, for the http package's HTTP/2 tests and benchmark. Effect-free.
 */
import { defaultHandler } from "@effect-pool/testing/servers"
import type { Certificate } from "@effect-pool/testing/servers"
import * as http2 from "node:http2"
import type { AddressInfo, Socket } from "node:net"

export interface TestHttp2Server {
  readonly origin: string
  readonly port: number
  /** TLS connections: opened, closed, most open at once. */
  readonly connections: { opened: number; closed: number; peak: number; readonly open: number }
  /** HTTP/2 streams: served in all, open now, most open at once. */
  readonly streams: { total: number; open: number; peak: number }
  /** Requests by ALPN protocol ("h2" or "http/1.1"). */
  readonly byProtocol: Record<string, number>
  readonly server: http2.Http2SecureServer
  /** Sends GOAWAY on every session and closes them (the server "restarts"). */
  readonly goAway: () => void
  readonly close: () => Promise<void>
}

export interface Http2ServerOptions {
  readonly tls: Certificate
  /** SETTINGS_MAX_CONCURRENT_STREAMS the server announces. [Node's default: 2³²−1] */
  readonly maxConcurrentStreams?: number | undefined
  /** Accept HTTP/1.1 clients too (ALPN `http/1.1`). [true] */
  readonly allowHTTP1?: boolean | undefined
  readonly handler?: ((req: any, res: any) => void) | undefined
}

export const startHttp2Server = async (options: Http2ServerOptions): Promise<TestHttp2Server> => {
  const handler = options.handler ?? defaultHandler
  const byProtocol: Record<string, number> = {}
  const streams = { total: 0, open: 0, peak: 0 }
  const connections = {
    opened: 0,
    closed: 0,
    peak: 0,
    get open() {
      return this.opened - this.closed
    }
  }
  const server = http2.createSecureServer({
    key: options.tls.key,
    cert: options.tls.cert,
    allowHTTP1: options.allowHTTP1 ?? true,
    ...(options.maxConcurrentStreams === undefined ? {} : { settings: { maxConcurrentStreams: options.maxConcurrentStreams } })
  }, (req, res) => {
    const protocol = req.httpVersion === "2.0" ? "h2" : "http/1.1"
    byProtocol[protocol] = (byProtocol[protocol] ?? 0) + 1
    if (req.httpVersion === "2.0") {
      streams.total++
      streams.open++
      streams.peak = Math.max(streams.peak, streams.open)
      req.stream.once("close", () => streams.open--)
    }
    handler(req as any, res as any)
  })
  const live = new Set<Socket>()
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on("session", (session) => {
    sessions.add(session)
    session.once("close", () => sessions.delete(session))
  })
  server.on("secureConnection", (socket: Socket) => {
    connections.opened++
    live.add(socket)
    connections.peak = Math.max(connections.peak, connections.open)
    socket.on("close", () => {
      connections.closed++
      live.delete(socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    connections,
    streams,
    byProtocol,
    server,
    goAway: () => {
      for (const session of sessions) session.close()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy()
        for (const socket of live) socket.destroy()
        server.close(() => resolve())
      })
  }
}
