// The benchmark's server, in a process of its own: the Echo service, 100 concurrent streams per
// connection (a common server limit). Sends its port to the parent over IPC.
import { startGrpcServer } from "@effect-pool/testing-effect4"

const server = await startGrpcServer({ maxConcurrentStreams: 100 })
process.send({ port: server.port })
process.on("disconnect", () => process.exit(0))
