/**
 * The pooled gRPC channel's state handling against a real grpc-js server on 127.0.0.1 (the test
 * kit's Effect-free servers): connect to READY, a failed attempt heard, lost when the server
 * goes, close cancels the calls still on it. Plain vitest, no Effect runtime.
 */
import * as grpc from "@grpc/grpc-js"
import { freePort, startGrpcServer } from "@effect-pool/testing/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PooledChannel } from "../../src/grpc/channel.js"
import { channelStats } from "../../src/grpc/stats.js"
import { effect4GrpcJs } from "../helpers.js"

const settings = (target: string) => ({
  target,
  credentials: grpc.credentials.createInsecure(),
  options: { "grpc.use_local_subchannel_pool": 1, "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 100 }
})

const connect = (channel: PooledChannel, timeout: number) =>
  new Promise<{ failure: string | undefined; failedAttempts: number }>((resolve) => {
    let failedAttempts = 0
    channel.connect(timeout, () => failedAttempts++, (failure) => resolve({ failure, failedAttempts }))
  })

let server: Awaited<ReturnType<typeof startGrpcServer>>
beforeAll(async () => {
  server = await startGrpcServer()
})
afterAll(() => server.close())

describe("PooledChannel", () => {
  it("connects to READY; stats read its item's borrowers; close cancels its calls and shuts it down", async () => {
    const channel = new PooledChannel(settings(server.target))
    expect(channelStats(channel)).toMatchObject({ activeCalls: 0, notServing: false })
    const { failure, failedAttempts } = await connect(channel, 10_000)
    expect(failure).toBeUndefined()
    expect(failedAttempts).toBe(0)
    expect(channel.state()).toBe(grpc.connectivityState.READY)
    expect(channelStats(channel).state).toBe("READY")
    channel.item = { borrowers: 2 }
    expect(channelStats(channel).activeCalls).toBe(2)
    let cancelled = 0
    channel.calls.add({ cancel: () => cancelled++ })
    channel.close()
    channel.close() // once
    expect(cancelled).toBe(1)
    expect(channel.calls.size).toBe(0)
    expect(channel.state()).toBe(grpc.connectivityState.SHUTDOWN)
    expect(channelStats(channel).state).toBe("SHUTDOWN")
  })

  it("a refused connection: each failed attempt is heard once per entry into TRANSIENT_FAILURE, then not ready within the timeout", async () => {
    const channel = new PooledChannel(settings(`127.0.0.1:${await freePort()}`))
    const { failure, failedAttempts } = await connect(channel, 300)
    channel.close()
    expect(failure).toMatch(/^not ready within 300 ms \(last state TRANSIENT_FAILURE\)$/)
    expect(failedAttempts).toBeGreaterThanOrEqual(1)
  })

  it("closed while connecting: done says so", async () => {
    const channel = new PooledChannel(settings(`127.0.0.1:${await freePort()}`))
    const result = connect(channel, 10_000)
    channel.close()
    expect((await result).failure).toBe("closed while connecting")
  })

  it("leaving READY marks it lost, once, outside grpc-js's callback", async () => {
    const own = await startGrpcServer()
    const channel = new PooledChannel(settings(own.target))
    expect((await connect(channel, 10_000)).failure).toBeUndefined()
    const lost = new Promise<PooledChannel>((resolve) => {
      channel.onLost = resolve
    })
    await own.stop()
    expect(await lost).toBe(channel)
    expect(channel.lost).toBe(true)
    channel.close()
    await own.close()
  })

  it("is made with the caller's grpc-js when given (settings.grpc): credentials of another copy of grpc-js connect", async () => {
    // a real second copy: the Effect 4 root's own @grpc/grpc-js (installed with the top-level install)
    const other: typeof grpc = effect4GrpcJs()
    expect(other.Channel).not.toBe(grpc.Channel)
    const theirs = { ...settings(server.target), credentials: other.credentials.createInsecure() }
    // without it, the engine's own copy refuses them (grpc-js checks credentials with instanceof)
    expect(() => new PooledChannel(theirs)).toThrow(/ChannelCredentials/)
    const channel = new PooledChannel({ ...theirs, grpc: other })
    expect(channel.channel).toBeInstanceOf(other.Channel)
    expect((await connect(channel, 10_000)).failure).toBeUndefined()
    expect(channelStats(channel).state).toBe("READY")
    channel.close()
  })
})
