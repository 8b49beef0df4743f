/** HttpPool's options, one parser for both editions: what HTTP/2 adds, what HTTP/1.1-only refuses. */
import { describe, expect, it } from "vitest"
import * as Http from "../../src/http/options.js"
import * as Options from "../../src/options.js"

/** Durations as ms, or the "N seconds"/"N minutes" texts the defaults are written in. */
const units: Record<string, number> = { second: 1_000, seconds: 1_000, minute: 60_000, minutes: 60_000 }
const checker = Options.makeChecker<number | string>({
  decode: (input) => {
    if (typeof input === "number") return input
    const match = typeof input === "string" ? /^(\d+) (\w+)$/.exec(input) : null
    return match !== null && units[match[2]!] !== undefined ? Number(match[1]) * units[match[2]!]! : undefined
  }
})

const parse = (input: unknown, http2: boolean) => Options.checkWith(checker, (check) => Http.parse(check, input, { http2 }))
const reason = (input: unknown, http2: boolean): string => {
  const result = parse(input, http2)
  return result._tag === "Invalid" ? `${result.option}: ${result.reason}` : "valid"
}

describe("HttpPool options with HTTP/2 (the Effect 4 edition)", () => {
  it("defaults: h2 on, 100 streams per connection, 10 connections per origin", () => {
    const result = parse({}, true)
    if (result._tag === "Invalid") throw new Error(result.reason)
    expect(result.value.idleTimeout).toBe(90_000)
    expect(result.value.http2).toBe(true)
    expect(result.value.maxStreamsPerConnection).toBe(100)
    expect(result.value.maxConnectionsPerOrigin).toBe(10)
  })
  it("takes http2 and maxStreamsPerConnection, answers undici's names with ours", () => {
    expect(reason({ http2: false, maxStreamsPerConnection: 8 }, true)).toBe("valid")
    expect(reason({ allowH2: true }, true)).toMatch(/^allowH2: .*http2/)
    expect(reason({ maxConcurrentStreams: 5 }, true)).toMatch(/^maxConcurrentStreams: .*maxStreamsPerConnection/)
    expect(reason({ maxStreamsPerConnection: 0 }, true)).toMatch(/^maxStreamsPerConnection: /)
    expect(reason({ maxStreamsPerConnection: 2 ** 31 }, true)).toMatch(/^maxStreamsPerConnection: /)
    expect(reason({ pipelining: 2 }, true)).toMatch(/^pipelining: .*HTTP\/2 multiplexes/)
  })
})

describe("HttpPool options without HTTP/2 (the Effect 3 edition)", () => {
  it("has no HTTP/2 options: http2 is false, one request per connection", () => {
    const result = parse({}, false)
    if (result._tag === "Invalid") throw new Error(result.reason)
    expect(result.value.http2).toBe(false)
    expect(result.value.maxStreamsPerConnection).toBe(1)
  })
  it("refuses the HTTP/2 options by name", () => {
    expect(reason({ http2: true }, false)).toMatch(/^http2: /)
    expect(reason({ maxStreamsPerConnection: 4 }, false)).toMatch(/^maxStreamsPerConnection: /)
    expect(reason({ allowH2: true }, false)).toBe("allowH2: is not supported: connections are HTTP/1.1")
    expect(reason({ pipelining: 2 }, false)).toMatch(/^pipelining: .*HTTP\/1\.1 without pipelining/)
  })
  it("the shared checks hold in both: bad types, null, unknown keys, TLS", () => {
    for (const http2 of [true, false]) {
      expect(reason(null, http2)).toMatch(/^options: must be an object/)
      expect(reason({ maxConnectionsPerOrigin: 0 }, http2)).toMatch(/^maxConnectionsPerOrigin: /)
      expect(reason({ idleTimeout: null }, http2)).toMatch(/^idleTimeout: must not be null/)
      expect(reason({ bogus: 1 }, http2)).toMatch(/^bogus: /)
      expect(reason({ tls: { ca: "nope" } }, http2)).toBe("tls.ca: is not a PEM certificate")
      expect(reason({ tls: { cert: "x" } }, http2)).toMatch(/^tls\.key: is required/)
      expect(reason({ proxy: "http://x" }, http2)).toMatch(/^proxy: is not supported/)
    }
  })
  it("names the pool after the name option when it is a string", () => {
    expect(Http.poolNameOf({ name: "api" })).toBe("api")
    expect(Http.poolNameOf({ name: 5 })).toBe("http")
    expect(Http.poolNameOf(undefined)).toBe("http")
  })
})
