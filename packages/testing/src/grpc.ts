/**
 * A real grpc-js server on 127.0.0.1 for the grpc package's tests, benchmark and example: the
 * Echo service (proto/echo.proto: the four call kinds, delays, errors, metadata echoed back) and
 * the standard health service, restartable on the same port, counting what it sees.
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { HealthImplementation } from "grpc-health-check"
import { fileURLToPath } from "node:url"

export const echoProtoPath = fileURLToPath(new URL("../proto/echo.proto", import.meta.url))

/** The loaded Echo package: `echoPackage().Echo` is a generated client constructor. */
export const echoPackage = (): { Echo: grpc.ServiceClientConstructor } => {
  const definition = protoLoader.loadSync(echoProtoPath, { keepCase: false, longs: Number, defaults: true })
  const loaded = grpc.loadPackageDefinition(definition) as any
  return loaded.effectpool.test
}

export interface Msg {
  text: string
  n: number
  delayMs: number
  code: number
}

export interface GrpcServerOptions {
  /** A fixed port (to restart on); a free one when absent. */
  readonly port?: number | undefined
  /** `grpc.max_concurrent_streams` per connection. */
  readonly maxConcurrentStreams?: number | undefined
  readonly credentials?: grpc.ServerCredentials | undefined
  readonly options?: grpc.ServerOptions | undefined
}

export interface TestGrpcServer {
  readonly port: number
  readonly target: string
  readonly health: HealthImplementation
  /** Calls that ended CANCELLED on the server, by method. */
  readonly cancelled: Record<string, number>
  /** Calls received, by method. */
  readonly calls: Record<string, number>
  /** Calls received, by the client's address as the server sees it (`call.getPeer()`: one per TCP connection). */
  readonly peers: Record<string, number>
  /** Most calls in flight at once. */
  readonly peak: () => number
  /** Stops (kills every connection at once) and starts again on the same port. */
  readonly stop: () => Promise<void>
  readonly start: () => Promise<void>
  readonly close: () => Promise<void>
}

/** What every kind of server call has. */
interface SurfaceCall {
  readonly metadata: grpc.Metadata
  readonly cancelled: boolean
  getPeer(): string
  sendMetadata(metadata: grpc.Metadata): void
  on(event: "cancelled", listener: () => void): unknown
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const startGrpcServer = async (options: GrpcServerOptions = {}): Promise<TestGrpcServer> => {
  const { Echo } = echoPackage()
  const health = new HealthImplementation({ "": "SERVING", "effectpool.test.Echo": "SERVING" })
  const cancelled: Record<string, number> = {}
  const calls: Record<string, number> = {}
  const peers: Record<string, number> = {}
  let inFlight = 0
  let peak = 0
  const track = (method: string, call: SurfaceCall) => {
    calls[method] = (calls[method] ?? 0) + 1
    const peer = call.getPeer()
    peers[peer] = (peers[peer] ?? 0) + 1
    inFlight++
    peak = Math.max(peak, inFlight)
    let ended = false
    const end = () => {
      if (!ended) {
        ended = true
        inFlight--
      }
    }
    // grpc-js also emits "cancelled" after a call that ended normally: count only the others
    call.on("cancelled", () => {
      if (!ended) cancelled[method] = (cancelled[method] ?? 0) + 1
      end()
    })
    return end
  }
  const echoMetadata = (call: SurfaceCall) => {
    const value = call.metadata.get("x-request")[0]
    const metadata = new grpc.Metadata()
    if (value !== undefined) metadata.set("x-echo", String(value))
    call.sendMetadata(metadata)
  }
  const failure = (msg: Msg): grpc.ServiceError | null => {
    if (msg.code === 0) return null
    const trailers = new grpc.Metadata()
    trailers.set("x-detail", "from-server")
    return Object.assign(new Error(msg.text), { code: msg.code, details: msg.text, metadata: trailers }) as grpc.ServiceError
  }
  const implementation: grpc.UntypedServiceImplementation = {
    unary: async (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      const end = track("unary", call)
      echoMetadata(call)
      if (call.request.delayMs > 0) await delay(call.request.delayMs)
      end()
      if (call.cancelled) return
      const error = failure(call.request)
      if (error !== null) callback(error)
      else {
        const seen = call.metadata.get("x-request")[0]
        callback(null, { ...call.request, text: `echo: ${call.request.text}${seen === undefined ? "" : ` [x-request=${seen}]`}` })
      }
    },
    serverStream: async (call: grpc.ServerWritableStream<Msg, Msg>) => {
      const end = track("serverStream", call)
      echoMetadata(call)
      for (let i = 0; i < call.request.n && !call.cancelled; i++) {
        if (call.request.delayMs > 0) await delay(call.request.delayMs)
        if (!call.cancelled) call.write({ ...call.request, n: i, text: `${call.request.text} ${i}` })
      }
      end()
      const error = failure(call.request)
      if (error !== null) call.emit("error", error)
      else if (!call.cancelled) call.end()
    },
    clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      const end = track("clientStream", call)
      echoMetadata(call)
      const texts: Array<string> = []
      call.on("data", (msg: Msg) => texts.push(msg.text))
      call.on("end", () => {
        end()
        callback(null, { text: texts.join(","), n: texts.length, delayMs: 0, code: 0 })
      })
    },
    bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      track("bidi", call)
      echoMetadata(call)
      call.on("data", (msg: Msg) => {
        if (!call.cancelled) call.write({ ...msg, text: `echo: ${msg.text}` })
      })
      // a client's cancel also arrives as the end of its side first: the tracker is left open,
      // so that the "cancelled" which follows counts (a bidi call here ends when its client does)
      call.on("end", () => call.end())
    }
  }

  let server: grpc.Server | undefined
  let port = options.port ?? 0
  const start = async () => {
    const s = new grpc.Server({
      ...(options.maxConcurrentStreams === undefined ? {} : { "grpc.max_concurrent_streams": options.maxConcurrentStreams }),
      ...options.options
    })
    s.addService(Echo.service, implementation)
    health.addToServer(s)
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(`127.0.0.1:${port}`, options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound))
    )
    server = s
  }
  const stop = async () => {
    const s = server
    server = undefined
    if (s === undefined) return
    s.forceShutdown()
    inFlight = 0
  }
  await start()
  return {
    get port() {
      return port
    },
    get target() {
      return `127.0.0.1:${port}`
    },
    health,
    cancelled,
    calls,
    peers,
    peak: () => peak,
    stop,
    start,
    close: stop
  }
}

/** `n` Echo servers on their own free ports (see `startGrpcServer`), and their `ipv4:` target naming all of them. */
export const startGrpcServers = async (
  n: number,
  options: Omit<GrpcServerOptions, "port"> = {}
): Promise<{ readonly servers: ReadonlyArray<TestGrpcServer>; readonly target: string; readonly close: () => Promise<void> }> => {
  const servers = await Promise.all(Array.from({ length: n }, () => startGrpcServer(options)))
  return {
    servers,
    target: `ipv4:${servers.map((s) => s.target).join(",")}`,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()))
    }
  }
}

/** The part of `@grpc/grpc-js` a controlled resolver needs (pass the copy the pool under test loads). */
export interface GrpcResolverModule {
  readonly experimental: {
    readonly registerResolver: typeof grpc.experimental.registerResolver
    readonly splitHostPort: typeof grpc.experimental.splitHostPort
  }
}

/**
 * A name resolver the test controls: a grpc-js resolver scheme (registered through grpc-js's own
 * `experimental.registerResolver`, the 1.14 listener API) whose addresses the test sets at run
 * time. Every resolver grpc-js (or a pool) creates for `scheme:///name` reports the current
 * addresses on creation, on `updateResolution`, and to all of them on each `set`.
 */
export interface ControlledResolver {
  readonly scheme: string
  /** `scheme:///name`. */
  readonly target: string
  /** The addresses (`127.0.0.1:PORT`) every resolver reports from now on; reported at once. */
  readonly set: (addresses: ReadonlyArray<string>) => void
  /** Fails every resolver's next resolution with UNAVAILABLE (a resolver error), once. */
  readonly fail: () => void
  /** Resolvers alive now (created and not destroyed). */
  readonly alive: () => number
  /** Resolutions asked for (`updateResolution` calls). */
  readonly requested: () => number
}

let resolverSchemes = 0

/** Registers a fresh scheme (`test-resolver-N`) with `addresses` as its first result. */
export const controlledResolver = (
  addresses: ReadonlyArray<string>,
  module: GrpcResolverModule = grpc
): ControlledResolver => {
  const scheme = `test-resolver-${++resolverSchemes}-${process.pid}`
  let current = [...addresses]
  let failNext = false
  let requested = 0
  const instances = new Set<{ report: () => void }>()
  const endpoints = () =>
    current.map((address) => {
      const hostPort = module.experimental.splitHostPort(address)
      if (hostPort === null || hostPort.port === undefined) throw new Error(`not a host:port: ${address}`)
      return { addresses: [{ host: hostPort.host, port: hostPort.port }] }
    })
  class Resolver {
    private destroyed = false
    constructor(
      _target: unknown,
      private readonly listener: (...args: Array<any>) => boolean,
      _options: unknown
    ) {
      instances.add(this)
      setImmediate(() => this.report())
    }
    report(): void {
      if (this.destroyed) return
      if (failNext) {
        failNext = false
        this.listener({ ok: false, error: { code: grpc.status.UNAVAILABLE, details: "resolution failed (test)", metadata: new grpc.Metadata() } }, {}, null, "")
        return
      }
      this.listener({ ok: true, value: endpoints() }, {}, null, "")
    }
    updateResolution(): void {
      requested++
      this.destroyed = false
      instances.add(this)
      setImmediate(() => this.report())
    }
    destroy(): void {
      this.destroyed = true
      instances.delete(this)
    }
    static getDefaultAuthority(target: { readonly path: string }): string {
      return target.path
    }
  }
  module.experimental.registerResolver(scheme, Resolver as never)
  return {
    scheme,
    target: `${scheme}:///backends`,
    set: (next) => {
      current = [...next]
      for (const instance of instances) instance.report()
    },
    fail: () => {
      failNext = true
      for (const instance of instances) instance.report()
    },
    alive: () => instances.size,
    requested: () => requested
  }
}
