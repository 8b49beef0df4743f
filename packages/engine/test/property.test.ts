/**
 * Random interleavings of every transition a shell makes (borrow, wait, give up, time out,
 * return, invalidate, creations finishing or failing, destructions finishing, health checks,
 * housekeeping, resize), checking after each step the invariants the shell and the stats rely on.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as State from "../src/state.js"
import { config } from "./helpers.js"

type Cmd = State.Command<string>

const step = fc.oneof(
  fc.record({ op: fc.constant("borrow" as const) }),
  fc.record({ op: fc.constant("return" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("invalidate" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("created" as const) }),
  fc.record({ op: fc.constant("failed" as const) }),
  fc.record({ op: fc.constant("destroyed" as const) }),
  fc.record({ op: fc.constant("check" as const), healthy: fc.boolean(), suspend: fc.boolean() }),
  fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ op: fc.constant("resize" as const), max: fc.integer({ min: 1, max: 4 }) })
)

const options = fc.record({
  max: fc.integer({ min: 1, max: 4 }),
  min: fc.integer({ min: 0, max: 2 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  targetUtilization: fc.constantFrom(1, 0.5),
  idleTimeout: fc.constantFrom(Infinity, 300),
  maxLifetime: fc.constantFrom(Infinity, 700),
  acquireTimeout: fc.constantFrom(Infinity, 500),
  maxUses: fc.constantFrom(Infinity, 3),
  order: fc.constantFrom("lifo" as const, "fifo" as const)
})

describe("state machine under random interleavings", () => {
  it("keeps its counts consistent, never exceeds max, never lends an unlendable item, never barges", () => {
    fc.assert(
      fc.property(options, fc.array(step, { maxLength: 60 }), (opts, steps) => {
        const base = { ...opts, min: Math.min(opts.min, opts.max), maxLifetimeJitter: 0 }
        const state = new State.PoolState<string>(config(base))
        let now = 0
        let created = 0
        let maxNow = base.max
        const held: Array<State.Item<string>> = []
        const waiting: Array<State.Waiter<string>> = []
        let pendingDestroys = 0
        const checking: Array<State.Item<string>> = []
        const run = (out: Array<Cmd>) => {
          for (const c of out) {
            if (c._tag === "Hand") {
              expect(c.waiter.settled).toBe(true)
              expect(c.item.invalid || c.item.checking || c.item.suspended || c.item.destroyed).toBe(false)
              expect(c.item.borrowers).toBeLessThanOrEqual(base.concurrency)
              held.push(c.item)
              waiting.splice(waiting.indexOf(c.waiter), 1)
            } else if (c._tag === "Reject") {
              expect(c.waiter.settled).toBe(true)
              waiting.splice(waiting.indexOf(c.waiter), 1)
            } else if (c._tag === "Destroy") {
              expect(c.item.destroyed).toBe(true)
              expect(c.item.borrowers).toBe(0)
              pendingDestroys++
            }
          }
          out.length = 0
        }
        const out: Array<Cmd> = []
        State.demand(state, out)
        run(out)
        for (const s of steps) {
          switch (s.op) {
            case "borrow": {
              const queued = state.waiters.length
              const item = State.take(state, now, out)
              if (item !== undefined) {
                expect(queued).toBe(0) // no barging
                expect(item.invalid || item.checking || item.suspended).toBe(false)
                expect(item.expiresAt).toBeGreaterThan(now)
                expect(item.borrowers).toBeLessThanOrEqual(base.concurrency)
                held.push(item)
              } else {
                const w: State.Waiter<string> = { enqueuedAt: now, item: undefined, error: undefined, settled: false, notify: undefined }
                if (State.enqueue(state, w, out) === "wait") waiting.push(w)
              }
              break
            }
            case "return": {
              if (held.length === 0) break
              const [item] = held.splice(s.pick % held.length, 1)
              State.release(state, item, now, out)
              break
            }
            case "invalidate": {
              if (held.length === 0) break
              State.invalidate(state, held[s.pick % held.length], out)
              break
            }
            case "cancel": {
              if (waiting.length === 0) break
              const [w] = waiting.splice(s.pick % waiting.length, 1)
              State.cancel(state, w, now, out)
              expect(w.settled).toBe(true)
              break
            }
            case "created": {
              if (state.creating === 0) break
              State.created(state, State.newItem(state, `i${created++}`, undefined, now, 0), now, out)
              break
            }
            case "failed": {
              if (state.creating === 0) break
              State.createFailed(state, "e", "e", out)
              break
            }
            case "destroyed": {
              if (pendingDestroys === 0) break
              pendingDestroys--
              State.destroyed(state, out)
              break
            }
            case "check": {
              if (checking.length > 0) {
                for (const item of checking.splice(0)) State.checked(state, item, s.healthy, now, out, s.suspend, "down")
              } else {
                checking.push(...State.checkOut(state))
              }
              break
            }
            case "tick": {
              now += s.ms
              State.expire(state, now, () => "timeout", out)
              State.evict(state, now, out)
              expect(State.nextHousekeeping(state, now)).toBeGreaterThanOrEqual(1)
              break
            }
            case "resize": {
              maxNow = s.max
              State.resize(state, config({ ...base, max: s.max, min: Math.min(base.min, s.max) }), out)
              break
            }
          }
          run(out)
          // invariants
          let borrowers = 0
          for (const item of state.items) {
            borrowers += item.borrowers
            expect(item.destroyed).toBe(false)
          }
          expect(state.borrowers).toBe(borrowers)
          expect(state.borrowers).toBe(held.length)
          expect(state.destroying).toBe(pendingDestroys)
          for (const item of state.idle) {
            expect(item.borrowers).toBe(0)
            expect(item.checking || item.suspended || item.invalid).toBe(false)
            expect(state.items.has(item)).toBe(true)
          }
          expect(new Set(state.idle).size).toBe(state.idle.length)
          expect(state.waiters.length).toBe(waiting.length)
          expect(state.items.size + state.creating).toBeLessThanOrEqual(Math.max(maxNow, base.max))
          expect(state.items.size + state.creating + state.destroying).toBeLessThanOrEqual(
            Math.max(maxNow, base.max) + pendingDestroys
          )
          let suspended = 0
          for (const item of state.items) if (item.suspended) suspended++
          expect(state.suspended).toBe(suspended)
          // nobody waits while an idle item could serve them
          if (state.waiters.length > 0) {
            for (const item of state.idle) {
              expect(item.invalid || item.checking || item.suspended || item.expiresAt <= now).toBe(true)
            }
          }
        }
      }),
      { numRuns: 300, seed: 42 }
    )
  })
})
