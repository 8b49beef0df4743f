// An interop test server (grpc.testing.TestService) for both editions' interop.test.ts cases, run in a
// child process: `node server.mjs`. It implements the server features of grpc/grpc's
// doc/interop-test-descriptions.md ("Server" section) that those cases use: EmptyCall, UnaryCall,
// StreamingInputCall, StreamingOutputCall, FullDuplexCall, CompressedRequest, Echo Status, Echo
// Metadata, ResponseParameters.interval_us. UnimplementedCall and UnimplementedService are left
// unregistered on purpose. Written for this project from that description (see README.md).
//
// It binds 127.0.0.1 on a port the OS picks and reports on stdout, one JSON object a line:
//   {"event":"listening","port":N}            once bound (the parent waits for this line)
//   {"event":"started","method":"Name"}       a call's headers arrived and its handler runs
// and exits on SIGTERM or when its stdin closes (the parent went away).
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { fileURLToPath } from "node:url"

const protoPath = fileURLToPath(new URL("./proto/test.proto", import.meta.url))
const definition = protoLoader.loadSync(protoPath, { keepCase: true, defaults: true, enums: String, longs: Number })
const { TestService } = grpc.loadPackageDefinition(definition).grpc.testing

const ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
const ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

const report = (line) => process.stdout.write(`${JSON.stringify(line)}\n`)

/** Echo Metadata: the initial key back as initial metadata (sent at once). */
const echoInitial = (call) => {
  const values = call.metadata.get(ECHO_INITIAL_KEY)
  if (values.length > 0) {
    const metadata = new grpc.Metadata()
    metadata.set(ECHO_INITIAL_KEY, values[0])
    call.sendMetadata(metadata)
  }
}

/** Echo Metadata: the trailing key back as trailing metadata. */
const echoTrailer = (call) => {
  const trailer = new grpc.Metadata()
  const values = call.metadata.get(ECHO_TRAILING_KEY)
  if (values.length > 0) trailer.set(ECHO_TRAILING_KEY, values[0])
  return trailer
}

/** Reports a call's start (its handler runs: the client's metadata has arrived). */
const started = (method) => report({ event: "started", method })

const payload = (size) => ({ type: "COMPRESSABLE", body: Buffer.alloc(size) })

/** Echo Status: the status a request asks for, or null. */
const statusOf = (call, request) =>
  request.response_status ? { code: request.response_status.code, details: request.response_status.message, metadata: echoTrailer(call) } : null

/**
 * CompressedRequest: a request with `expect_compressed` must have come compressed (and one with
 * `expect_compressed: false` uncompressed). `compressed` is the message's compressed flag, set by
 * `observeCall`.
 */
const compressionMismatch = (request) => {
  if (!request.expect_compressed) return null
  const compressed = compressedFlags.get(request) === true
  if (request.expect_compressed.value === compressed) return null
  return {
    code: grpc.status.INVALID_ARGUMENT,
    details: compressed ? "Expected an uncompressed request" : "Expected a compressed request"
  }
}

/**
 * grpc-js hands handlers decompressed messages and no message flags; this server interceptor reads
 * each incoming message's compressed-flag byte (the first of its gRPC frame, on the call's own read
 * queue entry) and remembers it for the parsed message it becomes, in arrival order.
 */
const compressedFlags = new WeakMap()
const observeCall = (_method, call) => {
  const flags = []
  const push = call.decompressAndMaybePush
  if (typeof push === "function") {
    call.decompressAndMaybePush = function (entry) {
      if (entry && entry.type === "COMPRESSED" && entry.compressedMessage) flags.push(entry.compressedMessage.readUInt8(0) === 1)
      return push.call(this, entry)
    }
  }
  return new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message, nextMessage) => {
          const flag = flags.shift() ?? false
          if (message !== null && typeof message === "object") compressedFlags.set(message, flag)
          nextMessage(message)
        }
      })
  })
}

/** Writes one response per ResponseParameters, each after its interval_us (accumulating). */
const writeAll = async (call, parameters) => {
  for (const parameter of parameters) {
    if (parameter.interval_us > 0) await new Promise((resolve) => setTimeout(resolve, parameter.interval_us / 1000))
    if (call.cancelled) return
    call.write({ payload: payload(parameter.size) })
  }
}

const implementation = {
  EmptyCall(call, callback) {
    started("EmptyCall")
    echoInitial(call)
    callback(null, {}, echoTrailer(call))
  },
  UnaryCall(call, callback) {
    started("UnaryCall")
    echoInitial(call)
    const request = call.request
    const failure = compressionMismatch(request) ?? statusOf(call, request)
    if (failure !== null) return callback({ ...failure, metadata: failure.metadata ?? echoTrailer(call) })
    callback(null, { payload: payload(request.response_size) }, echoTrailer(call))
  },
  StreamingInputCall(call, callback) {
    started("StreamingInputCall")
    echoInitial(call)
    let aggregated = 0
    let failed = false
    call.on("data", (request) => {
      if (failed) return
      const failure = compressionMismatch(request)
      if (failure !== null) {
        failed = true
        return callback({ ...failure, metadata: echoTrailer(call) })
      }
      aggregated += request.payload ? request.payload.body.length : 0
    })
    call.on("end", () => {
      if (failed) return
      callback(null, { aggregated_payload_size: aggregated }, echoTrailer(call))
    })
  },
  async StreamingOutputCall(call) {
    started("StreamingOutputCall")
    echoInitial(call)
    const status = statusOf(call, call.request)
    if (status !== null) {
      return call.emit("error", status)
    }
    await writeAll(call, call.request.response_parameters)
    if (!call.cancelled) call.end(echoTrailer(call))
  },
  FullDuplexCall(call) {
    started("FullDuplexCall")
    echoInitial(call)
    // responses in order: each request's writes wait for the previous ones
    let queue = Promise.resolve()
    let failed = false
    call.on("data", (request) => {
      if (failed) return
      const status = statusOf(call, request)
      if (status !== null) {
        // Echo Status: close with it, process nothing further
        failed = true
        queue = queue.then(() => {
          call.emit("error", status)
        })
        return
      }
      queue = queue.then(() => writeAll(call, request.response_parameters))
    })
    call.on("end", () => {
      queue = queue.then(() => {
        if (failed || call.cancelled) return
        call.end(echoTrailer(call))
      })
    })
  },
  HalfDuplexCall(call) {
    call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "HalfDuplexCall is not implemented" })
  }
}

const server = new grpc.Server({ interceptors: [observeCall] })
server.addService(TestService.service, implementation)
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`bind failed: ${error.message}\n`)
    process.exit(1)
  }
  report({ event: "listening", port })
})

const stop = () => {
  server.forceShutdown()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.stdin.on("end", stop)
process.stdin.resume()
