// The benchmark's HTTP server, in a process of its own: GET / → "ok" on the main port; the
// control port serves GET /stats (socket counts of the main port) and GET /reset, so that
// measuring never adds a connection to what is measured. Prints "<main> <control>".
import http from "node:http"
let opened = 0, open = 0, peak = 0
const server = http.createServer((_req, res) => res.end("ok"))
server.keepAliveTimeout = 60_000
server.on("connection", (socket) => {
  opened++; open++; peak = Math.max(peak, open)
  socket.on("close", () => open--)
})
const control = http.createServer((req, res) => {
  if (req.url === "/reset") { opened = 0; peak = open; return res.end("{}") }
  res.end(JSON.stringify({ opened, open, peak }))
})
server.listen(0, "127.0.0.1", () =>
  control.listen(0, "127.0.0.1", () => console.log(`${server.address().port} ${control.address().port}`)))
