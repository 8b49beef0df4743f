/**
 * Real HTTP/HTTPS servers on 127.0.0.1 that count their sockets, for the http package's tests,
 * benchmark and example. Certificates are made at test time with openssl.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo, Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Certificate {
  readonly key: string
  readonly cert: string
}

/** A self-signed certificate for localhost and 127.0.0.1 (it is its own CA). */
export const selfSignedCertificate = (): Certificate => {
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-cert-"))
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")
    ], { stdio: "ignore" })
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface SocketCounts {
  opened: number
  closed: number
  /** Most sockets open at once. */
  peak: number
  readonly open: number
}

export interface TestHttpServer {
  readonly origin: string
  readonly port: number
  readonly sockets: SocketCounts
  /** Requests received, by method. */
  readonly requests: Record<string, number>
  /** Times (ms since start) at which sockets closed. */
  readonly closedAt: Array<number>
  /** TLS connections that resumed an earlier session (no full handshake). */
  readonly tls: { resumed: number }
  readonly server: http.Server
  readonly close: () => Promise<void>
}

export interface HttpServerOptions {
  readonly tls?: Certificate | undefined
  /** Node's server keep-alive timeout; its `Keep-Alive: timeout=` hint follows it. */
  readonly keepAliveTimeout?: number | undefined
  /** Destroy a kept-alive socket when its next request arrives (the server "closed it as it was reused"). */
  readonly dropReusedSockets?: boolean | undefined
  readonly handler?: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined
}

/**
 * Routes of the default handler: `/` small text; `/bytes?n=N` N bytes; `/chunked?n=N` N chunks;
 * `/echo` echoes the request body; `/hang` sends headers and a chunk, then never ends.
 */
export const defaultHandler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  const url = new URL(req.url ?? "/", "http://x")
  const n = Number(url.searchParams.get("n") ?? 0)
  switch (url.pathname) {
    case "/bytes": {
      res.setHeader("content-length", n)
      res.end(Buffer.alloc(n, 120))
      return
    }
    case "/chunked": {
      for (let i = 0; i < n; i++) res.write(`chunk ${i}\n`)
      res.end()
      return
    }
    case "/echo": {
      req.pipe(res)
      return
    }
    case "/hang": {
      res.writeHead(200, { "content-type": "text/plain" })
      res.write("first chunk\n")
      return
    }
    default:
      res.end("ok")
  }
}

export const startHttpServer = async (options: HttpServerOptions = {}): Promise<TestHttpServer> => {
  const started = Date.now()
  const handler = options.handler ?? defaultHandler
  const served = new WeakSet<Socket>()
  const requests: Record<string, number> = {}
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (options.dropReusedSockets === true && served.has(req.socket)) {
      req.socket.destroy()
      return
    }
    served.add(req.socket)
    requests[req.method ?? "?"] = (requests[req.method ?? "?"] ?? 0) + 1
    handler(req, res)
  }
  const server = options.tls === undefined
    ? http.createServer(listener)
    : https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
  const sockets: SocketCounts = {
    opened: 0,
    closed: 0,
    peak: 0,
    get open() {
      return this.opened - this.closed
    }
  }
  const closedAt: Array<number> = []
  const tls = { resumed: 0 }
  const live = new Set<Socket>()
  server.on(options.tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    if ((socket as { isSessionReused?: () => boolean }).isSessionReused?.() === true) tls.resumed++
    sockets.opened++
    live.add(socket)
    sockets.peak = Math.max(sockets.peak, sockets.open)
    socket.on("close", () => {
      sockets.closed++
      live.delete(socket)
      closedAt.push(Date.now() - started)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    origin: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    port,
    sockets,
    requests,
    closedAt,
    tls,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of live) socket.destroy()
        server.close(() => resolve())
      })
  }
}
