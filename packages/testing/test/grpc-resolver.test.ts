/** The controlled resolver scheme and several servers: a plain grpc-js client reaches the servers it names, and follows `set`. */
import * as grpc from "@grpc/grpc-js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { controlledResolver, echoPackage, startGrpcServers } from "../src/grpc.js"

let fleet: Awaited<ReturnType<typeof startGrpcServers>>
beforeAll(async () => {
  fleet = await startGrpcServers(2)
})
afterAll(() => fleet.close())

const unary = (client: grpc.Client) =>
  new Promise<void>((resolve, reject) =>
    (client as any).unary({ text: "x", n: 0, delayMs: 0, code: 0 }, (error: unknown) => (error ? reject(error) : resolve())))

describe("controlledResolver", () => {
  it("resolves to the addresses set, and follows a new set", async () => {
    const [a, b] = fleet.servers
    const resolver = controlledResolver([a!.target])
    const { Echo } = echoPackage()
    const client = new Echo(resolver.target, grpc.credentials.createInsecure())
    await unary(client)
    expect(a!.calls.unary).toBe(1)
    expect(resolver.alive()).toBe(1)
    resolver.set([b!.target])
    // the channel moves to b once the new resolution is in
    for (let i = 0; i < 200 && (b!.calls.unary ?? 0) === 0; i++) {
      await unary(client)
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(b!.calls.unary).toBeGreaterThan(0)
    client.close()
    expect(fleet.target).toBe(`ipv4:${a!.target},${b!.target}`)
  })
})
