// The benchmark's HTTP server, in a process of its own. GET / → "ok"; GET /stats → socket counts;
// GET /reset → zero the counts. Prints its port on stdout.
import http from "node:http"
let opened = 0, open = 0, peak = 0
const server = http.createServer((req, res) => {
  if (req.url === "/stats") return res.end(JSON.stringify({ opened, open, peak }))
  if (req.url === "/reset") { opened = open; peak = open; return res.end("{}") }
  res.end("ok")
})
server.keepAliveTimeout = 60_000
server.on("connection", (socket) => {
  opened++; open++; peak = Math.max(peak, open)
  socket.on("close", () => open--)
})
server.listen(0, "127.0.0.1", () => console.log(server.address().port))
