/** Resolving a pool's target with grpc-js's own resolvers: ipv4 lists, dns names, a custom scheme followed at run time; the one-address channel options keep the authority and TLS name. */
import { controlledResolver } from "@effect-pool/testing/servers"
import { describe, expect, it } from "vitest"
import * as grpc from "@grpc/grpc-js"
import { backendChannelOptions, defaultAuthority, type GrpcResolving, isLoopbackTarget, targetUri, watchTarget } from "../../src/grpc/resolve.js"

const first = (target: string) =>
  new Promise<ReadonlyArray<string> | string>((resolve) => {
    const watch = watchTarget(target, {}, (addresses) => {
      watch?.close()
      resolve(addresses)
    }, (error) => {
      watch?.close()
      resolve(error)
    })
    if (watch === undefined) resolve("no resolver")
  })

describe("watchTarget", () => {
  it("ipv4:/ipv6: lists, a dns name without scheme, a literal host:port", async () => {
    expect(await first("ipv4:127.0.0.1:5001,127.0.0.1:5002")).toEqual(["127.0.0.1:5001", "127.0.0.1:5002"])
    expect(await first("ipv6:[::1]:5001")).toEqual(["[::1]:5001"])
    expect(await first("127.0.0.1:5003")).toEqual(["127.0.0.1:5003"])
    expect(await first("dns:///127.0.0.1:5004")).toEqual(["127.0.0.1:5004"])
    const local = await first("localhost:5005")
    expect(Array.isArray(local) && local.every((a) => /^(127\.0\.0\.1|\[::1\]):5005$/.test(a))).toBe(true)
  })

  it("a custom scheme: each set is reported; nothing after close", async () => {
    const control = controlledResolver(["127.0.0.1:6001"])
    const seen: Array<ReadonlyArray<string>> = []
    const watch = watchTarget(control.target, {}, (a) => seen.push(a), () => {})!
    await new Promise((r) => setTimeout(r, 20))
    expect(seen.at(-1)).toEqual(["127.0.0.1:6001"])
    control.set(["127.0.0.1:6001", "127.0.0.1:6002"])
    expect(seen.at(-1)).toEqual(["127.0.0.1:6001", "127.0.0.1:6002"])
    watch.close()
    const count = seen.length
    control.set(["127.0.0.1:6003"])
    await new Promise((r) => setTimeout(r, 20))
    expect(seen.length).toBe(count)
    expect(control.alive()).toBe(0)
  })

  it("a resolution error is reported as one", async () => {
    const control = controlledResolver([])
    expect(await first(control.target)).toBe("the target resolved to no address")
  })
})

describe("backendChannelOptions", () => {
  it("keeps the target's authority and TLS name; the user's own override wins", () => {
    expect(defaultAuthority("orders.internal:443")).toBe("orders.internal:443")
    expect(backendChannelOptions("orders.internal:443", { "grpc.use_local_subchannel_pool": 1 })).toEqual({
      "grpc.use_local_subchannel_pool": 1,
      "grpc.default_authority": "orders.internal:443",
      "grpc.ssl_target_name_override": "orders.internal"
    })
    expect(backendChannelOptions("dns:///orders.internal:443", { "grpc.ssl_target_name_override": "x.test" })["grpc.ssl_target_name_override"]).toBe("x.test")
    expect(backendChannelOptions("ipv4:10.0.0.1:50051,10.0.0.2:50051", {})["grpc.default_authority"]).toBe("10.0.0.1:50051")
  })
})

describe("the grpc-js copy passed", () => {
  it("targets map as grpc-js's channel maps them: a registered scheme kept, others dns:", () => {
    const control = controlledResolver(["127.0.0.1:6101"])
    expect(targetUri(control.target)).toEqual({ scheme: control.scheme, authority: "", path: "backends" })
    expect(targetUri("localhost:5005")).toEqual({ scheme: "dns", path: "localhost:5005" })
    expect(targetUri("dns:///a.test:1")).toEqual({ scheme: "dns", authority: "", path: "a.test:1" })
    expect(defaultAuthority("ipv4:10.0.0.1:1,10.0.0.2:1")).toBe("10.0.0.1:1")
  })

  it("resolves with the module given: its resolvers, not the engine's own copy's", async () => {
    const control = controlledResolver(["127.0.0.1:6201", "127.0.0.1:6202"])
    // a copy that knows no scheme but dns (as a second grpc-js would not know this test's scheme)
    const created: Array<string | undefined> = []
    const other: GrpcResolving = {
      experimental: {
        ...grpc.experimental,
        createResolver: (uri, listener, options) => {
          created.push(uri.scheme)
          if (uri.scheme !== "dns") throw new Error(`No resolver could be created for target ${grpc.experimental.uriToString(uri)}`)
          return grpc.experimental.createResolver(uri, listener, options)
        }
      }
    }
    expect(targetUri(control.target, other)?.scheme).toBe("dns")
    const seen = await new Promise<ReadonlyArray<string> | string>((resolve) => {
      const watch = watchTarget(control.target, {}, (a) => {
        watch?.close()
        resolve(a)
      }, (e) => {
        watch?.close()
        resolve(e)
      }, other)
    })
    // through `other`, the scheme is unknown: dns: of the whole string, which does not resolve
    expect(typeof seen).toBe("string")
    expect(created).toContain(control.scheme)
    expect(await first(control.target)).toEqual(["127.0.0.1:6201", "127.0.0.1:6202"])
  })
})

describe("isLoopbackTarget", () => {
  it("every address on this machine: plaintext without credentials is allowed only then", () => {
    for (const t of ["localhost:50051", "127.0.0.1:1", "127.9.9.9:1", "[::1]:1", "dns:///localhost:5000", "ipv4:127.0.0.1:1,127.0.0.2:2", "ipv6:[::1]:1", "unix:/tmp/s.sock", "unix-abstract:x"]) {
      expect([t, isLoopbackTarget(t)]).toEqual([t, true])
    }
    for (const t of ["orders.example.com:443", "10.1.2.3:443", "ipv4:127.0.0.1:5000,192.0.2.2:443", "ipv4:10.1.2.3:443,127.0.0.1:5000", "ipv6:[::1]:5000,[2001:db8::1]:443", "dns://8.8.8.8/localhost:1", "xds:///orders", "localhost.evil.example:1"]) {
      expect([t, isLoopbackTarget(t)]).toEqual([t, false])
    }
  })
})
