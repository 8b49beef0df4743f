/** Multi-host targets: parsing as libpq, host order, session matching. Plain vitest + fast-check. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  confirmationTimeoutMillis,
  describeChange,
  doubtsServer,
  describeMismatch,
  hostKey,
  hostOrder,
  isReadOnlyViolation,
  judgeReadOnlySignal,
  makeHostBook,
  needsState,
  parseTarget,
  passes,
  sessionMatches,
  singleHostStats,
  stillMatches,
  stateFromParameters,
  stateFromRow,
  type Target,
  type TargetInput,
  targetSessionAttrsValues,
  urlFor
} from "../../src/pg/hosts.js"

const ok = (input: TargetInput): Target => {
  const r = parseTarget(input)
  if (r._tag !== "Valid") throw new Error(`${r.option}: ${r.reason}`)
  return r.value
}
const bad = (input: TargetInput): { option: string; reason: string } => {
  const r = parseTarget(input)
  if (r._tag === "Valid") throw new Error(`accepted ${JSON.stringify(input)}`)
  return { option: r.option, reason: r.reason }
}

describe("parseTarget", () => {
  it("reads a multi-host url with ports, IPv6 and both query keys", () => {
    expect(
      ok({ url: "postgres://u:p%40@h1:5432,[::1]:5433,h3/db?sslmode=disable&target_session_attrs=read-write&load_balance_hosts=random" })
    ).toEqual({
      hosts: [
        { host: "h1", port: 5432 },
        { host: "::1", port: 5433 },
        { host: "h3", port: 5432 }
      ],
      targetSessionAttrs: "read-write",
      loadBalanceHosts: "random"
    })
  })

  it("a url host without a port takes the port option", () => {
    expect(ok({ url: "postgresql://a,b:7/db", port: 6000 }).hosts).toEqual([
      { host: "a", port: 6000 },
      { host: "b", port: 7 }
    ])
  })

  it("reads host/port lists: one port for all, or one per host; defaults", () => {
    expect(ok({ host: "a,b", port: 5 }).hosts).toEqual([
      { host: "a", port: 5 },
      { host: "b", port: 5 }
    ])
    expect(ok({ host: ["a", "b"], port: "5,6" }).hosts).toEqual([
      { host: "a", port: 5 },
      { host: "b", port: 6 }
    ])
    expect(ok({ host: ["a", "b"], port: [5, 6] }).hosts).toEqual([
      { host: "a", port: 5 },
      { host: "b", port: 6 }
    ])
    expect(ok({ host: "a,b", port: "5," }).hosts).toEqual([
      { host: "a", port: 5 },
      { host: "b", port: 5432 }
    ])
    expect(ok({})).toEqual({ hosts: [{ host: "localhost", port: 5432 }], targetSessionAttrs: "any", loadBalanceHosts: "disable" })
    expect(ok({ url: "postgres:///db?host=/tmp&port=7" }).hosts).toEqual([{ host: "/tmp", port: 7 }])
    expect(ok({ host: "[::1]" }).hosts).toEqual([{ host: "::1", port: 5432 }])
  })

  it("names the option for everything libpq would refuse", () => {
    expect(bad({ host: "a,b,c", port: "1,2" }).option).toBe("port")
    expect(bad({ host: [] }).option).toBe("host")
    expect(bad({ host: ["a", 1] }).option).toBe("host")
    expect(bad({ host: "a,,b" }).option).toBe("host")
    expect(bad({ host: 5 }).option).toBe("host")
    for (const port of [0, 65536, -1, 1.5, Number.NaN, Infinity, "x", "5x", {}, true])
      expect(bad({ host: "a", port }).option).toBe("port")
    expect(bad({ url: 5 }).option).toBe("url")
    expect(bad({ url: "mysql://a/db" }).option).toBe("url")
    expect(bad({ url: "postgres://a,,b/db" }).option).toBe("url")
    expect(bad({ url: "postgres://a:0/db" }).option).toBe("url")
    expect(bad({ url: "postgres://::1/db" }).option).toBe("url")
    expect(bad({ url: "postgres://a%zz/db" }).option).toBe("url")
    expect(ok({ url: "postgres://a/db", host: "b" }).hosts).toEqual([{ host: "b", port: 5432 }])
    for (const v of ["", "READ-WRITE", "master", 1, null, Infinity])
      expect(bad({ targetSessionAttrs: v }).option).toBe("targetSessionAttrs")
    expect(bad({ url: "postgres://a/db?target_session_attrs=bogus" }).option).toBe("targetSessionAttrs")
    expect(bad({ url: "postgres://a/db?target_session_attrs=any", targetSessionAttrs: "primary" }).option).toBe(
      "targetSessionAttrs"
    )
    for (const v of ["", "true", true, 1]) expect(bad({ loadBalanceHosts: v }).option).toBe("loadBalanceHosts")
  })

  it("says why, naming the value refused", () => {
    const why = (input: TargetInput) => {
      const r = bad(input)
      return `${r.option}: ${r.reason}`
    }
    expect(why({ host: "a", port: 0 })).toBe("port: port must be a port number from 1 to 65535, got 0")
    expect(why({ host: "a", port: {} })).toBe("port: port must be a number, a string or an array, got an object")
    expect(why({ host: "a,b,c", port: "1,2" })).toBe("port: port must give one port for every host or exactly one per host (3), got 2")
    expect(why({ host: 5 })).toBe("host: host must be a string or an array of strings, got 5")
    expect(why({ host: [] })).toBe("host: host must name at least one host, got an empty array")
    expect(why({ host: ["a", 1] })).toBe("host: host[1] must be a string, got 1")
    expect(why({ host: "a b" })).toBe('host: host must be a list of host names, got "a b"')
    expect(why({ url: 5 })).toBe("url: url must be a string, got 5")
    expect(why({ url: "mysql://a/db" })).toBe("url: url must start with postgres:// or postgresql://")
    expect(why({ url: "postgres://a,,b/db" })).toBe("url: url has an empty host in its host list")
    expect(why({ url: "postgres://:5/db" })).toBe('url: url has an empty host in ":5"')
    expect(why({ url: "postgres://::1/db" })).toBe('url: url host "::1": an IPv6 address must be in brackets, e.g. [::1]:5432')
    expect(why({ url: "postgres://a:0/db" })).toBe("url: url must be a port number from 1 to 65535, got \"0\"")
    expect(why({ url: `postgres://${"a".repeat(50)}%zz/db` })).toBe(`url: url has a malformed percent-encoding in "${"a".repeat(40)}"`)
    expect(why({ targetSessionAttrs: "master" })).toBe(
      'targetSessionAttrs: targetSessionAttrs must be one of "any", "read-write", "read-only", "primary", "standby", "prefer-standby", got "master"'
    )
    expect(why({ url: "postgres://a/db?target_session_attrs=any", targetSessionAttrs: "primary" })).toBe(
      'targetSessionAttrs: targetSessionAttrs "primary" contradicts the url\'s target_session_attrs=any'
    )
    expect(why({ url: "postgres://a/db?load_balance_hosts=random", loadBalanceHosts: "disable" })).toBe(
      'loadBalanceHosts: loadBalanceHosts "disable" contradicts the url\'s load_balance_hosts=random'
    )
  })

  it("ports: 1 to 65535, decimal digits only in a string (blanks around them allowed)", () => {
    expect(ok({ host: "a,b", port: [1, 65535] }).hosts.map((h) => h.port)).toEqual([1, 65535])
    expect(ok({ host: "a", port: " 7 " }).hosts[0]!.port).toBe(7)
    // Number() would read these as ports: libpq takes digits only
    for (const port of ["0x10", "1e3", "+5", "5.0", " 5x"]) expect(bad({ host: "a", port }).option).toBe("port")
    // an entry of blanks is the default port, as an empty one
    expect(ok({ host: "a,b", port: "5, " }).hosts.map((h) => h.port)).toEqual([5, 5432])
  })

  it("host names: trimmed; brackets only around a whole name; a socket directory; no URL characters", () => {
    expect(ok({ host: " a , b " }).hosts.map((h) => h.host)).toEqual(["a", "b"])
    // one bracket is not an IPv6 address in brackets: kept as written (its lookup then fails, naming it)
    expect(ok({ host: ["[h", "h]"] }).hosts.map((h) => h.host)).toEqual(["[h", "h]"])
    expect(ok({ host: "/var/run/postgresql" }).hosts).toEqual([{ host: "/var/run/postgresql", port: 5432 }])
    for (const host of ["a b", "u@h", "h/db", "h?x", "h#x"]) expect(bad({ host }).option).toBe("host")
  })

  it("url hosts: IPv6 only whole in brackets, a port or none (an empty one is none), a query right after the hosts", () => {
    expect(ok({ url: "postgres://[::1]/db" }).hosts).toEqual([{ host: "::1", port: 5432 }])
    expect(ok({ url: "postgres://h:/db" }).hosts).toEqual([{ host: "h", port: 5432 }])
    for (const url of ["postgres://[::1]x/db", "postgres://x[::1]/db", "jdbc:postgresql://h/db"]) expect(bad({ url }).option).toBe("url")
    expect(ok({ url: "postgres://h?target_session_attrs=primary" }).targetSessionAttrs).toBe("primary")
    // the same value in the url and the option is no contradiction
    expect(ok({ url: "postgres://h/db?target_session_attrs=primary", targetSessionAttrs: "primary" }).targetSessionAttrs).toBe("primary")
  })

  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.record({ url: fc.anything(), host: fc.anything(), port: fc.anything(), targetSessionAttrs: fc.anything() }, {
          requiredKeys: []
        }),
        (input) => {
          const r = parseTarget(input)
          expect(["Valid", "Invalid"]).toContain(r._tag)
        }
      )
    )
    fc.assert(fc.property(fc.string(), (url) => void parseTarget({ url: `postgres://${url}` })))
  })

  it("a parsed url round-trips every host through urlFor", () => {
    const url = "postgres://u:p@h1:1,[::1]:2/db?sslmode=disable&target_session_attrs=primary&application_name=x"
    expect(ok({ url }).hosts.map((h) => urlFor(url, h))).toEqual([
      "postgres://u:p@h1:1/db?sslmode=disable&application_name=x",
      "postgres://u:p@[::1]:2/db?sslmode=disable&application_name=x"
    ])
    expect(urlFor("postgres://u@a,b", { host: "b", port: 3 })).toBe("postgres://u@b:3")
    expect(urlFor("postgres://u@a,b/db", { host: "b", port: 3 })).toBe("postgres://u@b:3/db")
    expect(urlFor("postgres://u@a,b?sslmode=require", { host: "b", port: 3 })).toBe("postgres://u@b:3?sslmode=require")
    // every key this module reads is removed: the driver would read host and port over the url's
    expect(urlFor("postgres://u@/db?host=/tmp&port=7&load_balance_hosts=random&application_name=x", { host: "/tmp", port: 7 })).toBe(
      "postgres://u@%2Ftmp:7/db?application_name=x"
    )
  })
})

describe("hostOrder", () => {
  const target = (n: number, loadBalanceHosts: "disable" | "random"): Target => ({
    hosts: Array.from({ length: n }, (_, i) => ({ host: `h${i}`, port: 1 })),
    targetSessionAttrs: "any",
    loadBalanceHosts
  })

  it("disable keeps the given order", () => {
    // () => 0 would move every host (see random below)
    expect(hostOrder(target(3, "disable"), () => 0).map((h) => h.host)).toEqual(["h0", "h1", "h2"])
  })

  it("random shuffles two hosts too; a draw of 0 swaps each host with the first (Fisher-Yates)", () => {
    expect(hostOrder(target(2, "random"), () => 0).map((h) => h.host)).toEqual(["h1", "h0"])
    expect(hostOrder(target(3, "random"), () => 0).map((h) => h.host)).toEqual(["h1", "h2", "h0"])
  })

  it("random is a permutation for any random source, even a broken one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.double(), { minLength: 8, maxLength: 8 }), (n, rs) => {
        let i = 0
        const order = hostOrder(target(n, "random"), () => rs[i++ % rs.length]!)
        expect(order.map((h) => h.host).sort()).toEqual(target(n, "disable").hosts.map((h) => h.host).sort())
      })
    )
  })

  it("random puts each host first about equally often", () => {
    let seed = 1
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647)
    const firsts = new Map<string, number>()
    for (let i = 0; i < 3000; i++) {
      const first = hostOrder(target(3, "random"), random)[0]!.host
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    for (const host of ["h0", "h1", "h2"]) expect(Math.abs(firsts.get(host)! - 1000)).toBeLessThan(200)
  })
})

describe("sessionMatches", () => {
  const primary = { inHotStandby: false, readOnly: false }
  const readOnlyPrimary = { inHotStandby: false, readOnly: true }
  const standby = { inHotStandby: true, readOnly: true }

  it("has libpq's meaning for every attribute", () => {
    const table = {
      any: [true, true, true],
      "read-write": [true, false, false],
      "read-only": [false, true, true],
      primary: [true, true, false],
      standby: [false, false, true],
      "prefer-standby": [false, false, true]
    } as const
    for (const attrs of targetSessionAttrsValues)
      expect([primary, readOnlyPrimary, standby].map((s) => sessionMatches(attrs, s))).toEqual(table[attrs])
  })

  it("only any skips reading the session state", () => {
    for (const attrs of targetSessionAttrsValues) expect(needsState(attrs)).toBe(attrs !== "any")
  })

  it("standby never takes a primary, on any pass", () => {
    expect(sessionMatches("standby", primary, 1)).toBe(false)
    expect(sessionMatches("standby", standby, 1)).toBe(true)
  })

  it("says why a session was refused, or no longer matches", () => {
    expect(describeMismatch("read-write", standby)).toBe("a hot standby, read-only by default; wanted read-write")
    expect(describeMismatch("standby", primary)).toBe("not in recovery, read-write by default; wanted standby")
    expect(describeChange("primary", { inHotStandby: true, readOnly: false })).toBe("now a hot standby, read-write by default; wanted primary")
  })

  it("prefer-standby takes any server on its second pass; others take one pass", () => {
    expect(passes("prefer-standby")).toBe(2)
    expect(sessionMatches("prefer-standby", primary, 1)).toBe(true)
    for (const attrs of targetSessionAttrsValues.filter((a) => a !== "prefer-standby")) expect(passes(attrs)).toBe(1)
  })

  it("reads the state from ParameterStatus or the state query's row", () => {
    expect(stateFromParameters({ in_hot_standby: "on", default_transaction_read_only: "off" })).toEqual({
      inHotStandby: true,
      readOnly: false
    })
    expect(stateFromParameters({ in_hot_standby: "off", default_transaction_read_only: "on" })).toEqual({
      inHotStandby: false,
      readOnly: true
    })
    expect(stateFromParameters({ default_transaction_read_only: "off" })).toBeUndefined()
    expect(stateFromParameters({ in_hot_standby: "off" })).toBeUndefined()
    expect(stateFromRow({ in_hot_standby: false, read_only: "on" })).toEqual({ inHotStandby: false, readOnly: true })
    expect(stateFromRow({ in_hot_standby: "t", read_only: "off" })).toEqual({ inHotStandby: true, readOnly: false })
    // every spelling of a boolean Postgres' text output has
    expect(stateFromRow({ in_hot_standby: "true", read_only: "f" })).toEqual({ inHotStandby: true, readOnly: false })
    expect(stateFromRow({ in_hot_standby: "false", read_only: "t" })).toEqual({ inHotStandby: false, readOnly: true })
    expect(stateFromRow({ in_hot_standby: "off", read_only: "false" })).toEqual({ inHotStandby: false, readOnly: false })
    expect(stateFromRow({ in_hot_standby: 1, read_only: "off" })).toBeUndefined()
    expect(stateFromRow(null)).toBeUndefined()
  })

  it("25006 is a read-only violation; host keys bracket IPv6", () => {
    expect(isReadOnlyViolation("25006")).toBe(true)
    expect(isReadOnlyViolation("25P02")).toBe(false)
    expect(isReadOnlyViolation(undefined)).toBe(false)
    expect(hostKey({ host: "::1", port: 5 })).toBe("[::1]:5")
    expect(hostKey({ host: "a", port: 5 })).toBe("a:5")
  })
})

describe("stillMatches (a pooled session after a switchover)", () => {
  it("as sessionMatches, except prefer-standby keeps every session", () => {
    const states = [false, true].flatMap((inHotStandby) => [false, true].map((readOnly) => ({ inHotStandby, readOnly })))
    for (const attrs of targetSessionAttrsValues) {
      for (const state of states) {
        expect(stillMatches(attrs, state)).toBe(attrs === "prefer-standby" ? true : sessionMatches(attrs, state))
      }
    }
    // a promoted standby: standby loses it, prefer-standby keeps it
    expect(stillMatches("standby", { inHotStandby: false, readOnly: false })).toBe(false)
    expect(stillMatches("prefer-standby", { inHotStandby: false, readOnly: false })).toBe(true)
  })
})

describe("makeHostBook", () => {
  // parsed inside each test, not when the file is collected: code run at collection is outside
  // every test (Stryker's "static" mutants there are never in effect under the vitest runner)
  const target = () => ok({ host: "h1,h2,h1", port: "1,2,1" })
  const item = (borrowers = 0) => {
    const it = { borrowers, invalidated: false, invalidate: () => (it.invalidated = true) }
    return it
  }

  it("keeps items per host: evicting one host invalidates only its items", () => {
    const book = makeHostBook(target())
    const [a1, a2, b1] = [item(), item(1), item()]
    book.add({ host: "h1", port: 1 }, a1)
    book.add({ host: "h1", port: 1 }, a2)
    book.add({ host: "h2", port: 2 }, b1)
    expect(book.stats()).toEqual([
      { host: "h1", port: 1, connections: 2, idle: 1 },
      { host: "h2", port: 2, connections: 1, idle: 1 }
    ])
    expect(book.evict({ host: "h1", port: 1 })).toBe(2)
    expect([a1.invalidated, a2.invalidated, b1.invalidated]).toEqual([true, true, false])
    // invalidated items leave the counts at once, before their close removes them
    expect(book.stats().map((h) => h.connections)).toEqual([0, 1])
    expect(book.evict({ host: "nowhere", port: 9 })).toBe(0)
  })

  it("the removal returned by add forgets the item; a host named twice is one entry", () => {
    const book = makeHostBook(target())
    const remove = book.add({ host: "h2", port: 2 }, item())
    remove()
    remove()
    expect(book.stats()).toHaveLength(2)
    expect(book.stats()[1]).toEqual({ host: "h2", port: 2, connections: 0, idle: 0 })
  })

  it("notes the last failure and refusal per host; a kept session clears both", () => {
    const book = makeHostBook(target())
    book.failed({ host: "h1", port: 1 }, "ECONNREFUSED")
    book.mismatched({ host: "h1", port: 1 }, "read-only")
    book.mismatched({ host: "h2", port: 2 }, "standby")
    expect(book.stats()).toStrictEqual([
      { host: "h1", port: 1, connections: 0, idle: 0, lastError: "ECONNREFUSED", lastMismatch: "read-only" },
      { host: "h2", port: 2, connections: 0, idle: 0, lastMismatch: "standby" }
    ])
    // a failure alone: its lastError, no lastMismatch key
    book.add({ host: "h2", port: 2 }, item()) // clears both
    book.failed({ host: "h2", port: 2 }, "ETIMEDOUT")
    expect(book.stats()[1]).toStrictEqual({ host: "h2", port: 2, connections: 1, idle: 1, lastError: "ETIMEDOUT" })
    book.add({ host: "h1", port: 1 }, item())
    expect(book.stats()[0]).toStrictEqual({ host: "h1", port: 1, connections: 1, idle: 1 })
  })

  it("an item whose invalidate removes it mid-eviction is handled", () => {
    const book = makeHostBook(target())
    const removals: Array<() => void> = []
    for (let i = 0; i < 3; i++) {
      const it = { borrowers: 0, invalidate: () => removals[i]!() }
      removals.push(book.add({ host: "h1", port: 1 }, it))
    }
    expect(book.evict({ host: "h1", port: 1 })).toBe(3)
    expect(book.stats()[0]!.connections).toBe(0)
  })

  it("property: connections and idle always count the live items per host", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 2 }), fc.boolean())), (ops) => {
        const book = makeHostBook(ok({ host: "a,b", port: 1 }))
        const hosts = [{ host: "a", port: 1 }, { host: "b", port: 1 }]
        const live: Array<Array<{ borrowers: number }>> = [[], []]
        for (const [h, borrowers, evict] of ops) {
          if (evict) {
            book.evict(hosts[h]!)
            live[h] = []
          } else {
            const it = item(borrowers)
            book.add(hosts[h]!, it)
            live[h]!.push(it)
          }
        }
        expect(book.stats().map((s) => [s.connections, s.idle])).toEqual(
          live.map((items) => [items.length, items.filter((i) => i.borrowers === 0).length])
        )
      })
    )
  })

  it("one server: the pool's counts", () => {
    expect(singleHostStats({ host: "h", port: 5 }, { size: 3, idle: 1 })).toEqual([{ host: "h", port: 5, connections: 3, idle: 1 }])
  })
})

describe("judgeReadOnlySignal (a 25006 or a default_transaction_read_only report on a pooled session)", () => {
  const rw = { inHotStandby: false, readOnly: false }
  it("a server still read-write: the transaction's own read-only-ness is kept, a session's own SET discards that session only", () => {
    expect(judgeReadOnlySignal("read-write", rw, false)).toBe("keep")
    expect(judgeReadOnlySignal("read-write", rw, true)).toBe("session")
  })
  it("a server read-only by default or in recovery: the server changed", () => {
    expect(judgeReadOnlySignal("read-write", { inHotStandby: false, readOnly: true }, true)).toBe("server")
    expect(judgeReadOnlySignal("read-write", { inHotStandby: true, readOnly: false }, false)).toBe("server")
    expect(judgeReadOnlySignal("primary", { inHotStandby: false, readOnly: true }, true)).toBe("keep")
  })
  it("under read-only: a session that SET itself read-write on a read-only server is the session's", () => {
    expect(judgeReadOnlySignal("read-only", { inHotStandby: false, readOnly: true }, false)).toBe("session")
    expect(judgeReadOnlySignal("read-only", { inHotStandby: true, readOnly: false }, false)).toBe("keep")
    expect(judgeReadOnlySignal("read-only", { inHotStandby: false, readOnly: false }, false)).toBe("server")
  })
})

describe("libpq's ?host=h1,h2 url form", () => {
  it("is a host list, with a port list or one port", () => {
    const two = parseTarget({ url: "postgres://u@/db?host=127.0.0.1,127.0.0.2&port=5000,5001" })
    expect(two).toMatchObject({ _tag: "Valid", value: { hosts: [{ host: "127.0.0.1", port: 5000 }, { host: "127.0.0.2", port: 5001 }] } })
    const one = parseTarget({ url: "postgres://u@/db?host=h1,h2&port=5000" })
    expect(one).toMatchObject({ _tag: "Valid", value: { hosts: [{ host: "h1", port: 5000 }, { host: "h2", port: 5000 }] } })
  })
})

describe("a read-only signal suspends its host until a fresh session answers (HostBook.suspect / confirmed)", () => {
  const target = () => ok({ host: "h1,h2", port: "1,2", targetSessionAttrs: "read-write" })
  const h1 = { host: "h1", port: 1 }
  const h2 = { host: "h2", port: 2 }
  const item = (borrowers = 0) => {
    const it = {
      borrowers,
      invalidated: false,
      held: false,
      invalidate: () => (it.invalidated = true),
      suspend: () => (it.held = true),
      resume: () => (it.held = false)
    }
    return it
  }
  const rw = { inHotStandby: false, readOnly: false }

  it("which signals count: under read-write a 25006 or a report of on; under read-only a report of off on a server not in recovery", () => {
    expect(doubtsServer("read-write", { inHotStandby: false, readOnly: true })).toBe(true)
    expect(doubtsServer("read-write", rw)).toBe(false)
    expect(doubtsServer("read-only", { inHotStandby: false, readOnly: true })).toBe(false)
    expect(doubtsServer("read-only", rw)).toBe(true)
    expect(doubtsServer("primary", { inHotStandby: false, readOnly: true })).toBe(false)
    expect(doubtsServer("any", { inHotStandby: true, readOnly: true })).toBe(false)
  })

  it("suspends every connection of the host at once, one confirmation per host, the host tried last; a server that changed evicts them with the mismatch", () => {
    const book = makeHostBook(target())
    const [a1, a2, b1] = [item(1), item(), item()]
    book.add(h1, a1)
    book.add(h1, a2)
    book.add(h2, b1)
    expect(book.route([h1, h2])).toEqual([h1, h2])
    expect(book.suspect(h1, a1, () => false)).toBe(true)
    expect([a1.held, a2.held, b1.held, book.suspended(h1), book.suspended(h2)]).toEqual([true, true, false, true, false])
    expect(book.route([h1, h2])).toEqual([h2, h1])
    // a second signal meanwhile waits for the same answer
    expect(book.suspect(h1, a2, () => false)).toBe(false)
    expect(book.confirmed(h1, { server: { inHotStandby: false, readOnly: true } })).toBe("server")
    expect([a1.invalidated, a2.invalidated, b1.invalidated, book.suspended(h1)]).toEqual([true, true, false, false])
    expect(book.stats()[0]!.lastMismatch).toBe("now not in recovery, read-only by default; wanted read-write")
    expect(book.route([h1, h2])).toEqual([h1, h2])
    expect(book.confirmed(h1, { server: rw })).toBe("none")
  })

  it("a server that still matches: the host resumes, its connections stay; a session read-only by its own SET goes alone; no mismatch", () => {
    const book = makeHostBook(target())
    const [a1, a2, a3] = [item(), item(1), item()]
    for (const i of [a1, a2, a3]) book.add(h1, i)
    book.suspect(h1, a1, () => false) // SET TRANSACTION READ ONLY
    book.suspect(h1, a2, () => true) // SET default_transaction_read_only = on
    expect(book.confirmed(h1, { server: rw })).toBe("kept")
    expect([a1, a2, a3].map((i) => [i.held, i.invalidated])).toEqual([[false, false], [false, true], [false, false]])
    expect(book.stats()[0]).toEqual({ host: "h1", port: 1, connections: 2, idle: 2 })
  })

  it("no answer (the fresh session failed): the host resumes, only the signalling sessions go, lastError says why", () => {
    const book = makeHostBook(target())
    const [a1, a2] = [item(), item()]
    book.add(h1, a1)
    book.add(h1, a2)
    book.suspect(h1, a1, () => false)
    expect(book.confirmed(h1, { failure: "ECONNREFUSED" })).toBe("unconfirmed")
    expect([a1.invalidated, a2.invalidated, a2.held, book.suspended(h1)]).toEqual([true, false, false, false])
    expect(book.stats()[0]).toEqual({
      host: "h1",
      port: 1,
      connections: 1,
      idle: 1,
      lastError: "a read-only signal could not be confirmed: ECONNREFUSED"
    })
  })
})

describe("confirmationTimeoutMillis", () => {
  it("the pool's connectTimeout; 10 s when that is none (0, Infinity, not given)", () => {
    expect(confirmationTimeoutMillis(2_500)).toBe(2_500)
    for (const none of [undefined, 0, Infinity]) expect(confirmationTimeoutMillis(none)).toBe(10_000)
  })
})
