// The benchmark's servers, in a process of their own: GET / → "ok" over HTTP/1.1 (plain) and over
// HTTP/2 (TLS, ALPN h2; key and certificate from BENCH_TLS_KEY/BENCH_TLS_CERT). The control port
// serves GET /stats (connection counts of both) and GET /reset, so that measuring never adds a
// connection to what is measured. Prints "<h1 port> <h2 port> <control port>".
import http from "node:http"
import http2 from "node:http2"
const counts = { h1: { opened: 0, open: 0, peak: 0 }, h2: { opened: 0, open: 0, peak: 0 } }
const track = (kind) => (socket) => {
  const c = counts[kind]
  c.opened++; c.open++; c.peak = Math.max(c.peak, c.open)
  socket.on("close", () => c.open--)
}
const h1 = http.createServer((_req, res) => res.end("ok"))
h1.keepAliveTimeout = 60_000
h1.on("connection", track("h1"))
const h2 = http2.createSecureServer({ key: process.env.BENCH_TLS_KEY, cert: process.env.BENCH_TLS_CERT }, (_req, res) => res.end("ok"))
h2.on("secureConnection", track("h2"))
const control = http.createServer((req, res) => {
  if (req.url === "/reset") {
    for (const c of Object.values(counts)) { c.opened = 0; c.peak = c.open }
    return res.end("{}")
  }
  res.end(JSON.stringify(counts))
})
h1.listen(0, "127.0.0.1", () => h2.listen(0, "127.0.0.1", () => control.listen(0, "127.0.0.1", () =>
  console.log(`${h1.address().port} ${h2.address().port} ${control.address().port}`))))
