/**
 * The backends of a gRPC pool whose target resolves to several addresses: which addresses are
 * backends, which backend a new call goes to, which one gets the next channel, and which are
 * ejected for failing — pure state and transitions returning commands, no runtime, no grpc-js
 * import (status codes are grpc's numbers). Every edition's gRPC pool runs the commands.
 *
 * The options (validated by `parseBackendOptions` through the engine's option checker):
 * - `loadBalancing`: `"round_robin"` [default] — every resolved address is a backend, channels
 *   spread over them, calls to the least loaded; `"pick_first"` — one backend, the first address
 *   (grpc's default policy, and this pool's behaviour before several backends).
 *   Named after grpc's service-config `loadBalancingConfig` policy names.
 * - `minChannelsPerBackend` [0]: channels each backend keeps at least (a backend keeps the larger
 *   of it and its round-robin share of the pool-wide `minChannels`; see `minimums`).
 * - `maxChannelsPerBackend` [the pool's `maxChannels`]: most channels to one backend.
 * - `outlierDetection` [on] | `false`: ejection of failing backends, named after grpc's
 *   service-config / xDS outlier detection (gRFC A50: `baseEjectionTime`, `maxEjectionTime`,
 *   `maxEjectionPercent`) and Envoy's (`consecutive_5xx` → `consecutiveFailures`, counted over
 *   grpc status codes `failureCodes`):
 *   `consecutiveFailures` [5], `baseEjectionTime` [30 s], `maxEjectionTime` [300 s],
 *   `maxEjectionPercent` [50], `failureCodes` [[UNAVAILABLE (14)]].
 *
 * Ejection (as Envoy's): `consecutiveFailures` calls in a row ending with a failure code eject a
 * backend for `baseEjectionTime × ejections` (its ejection count, this one included), capped at
 * `max(baseEjectionTime, maxEjectionTime)` — unless that would put more than
 * `maxEjectionPercent` % of the (non-draining) backends out at once. Once the time is over
 * (`tick`) the backend is picked again, on probation: its first call decides — a success
 * clears its ejection count, a failure ejects it again at once for longer. While every backend
 * is ejected, calls go to the one ejected longest ago: never a failure only for that.
 *
 * @example
 * ```ts
 * import { Options } from "@effect-pool/engine"
 * import * as Backends from "@effect-pool/engine/grpc/backends"
 *
 * const codec: Options.DurationCodec = { decode: (input) => (typeof input === "number" ? input : undefined) }
 * const parsed = Options.check(codec, (check) => Backends.parseBackendOptions(check, { loadBalancing: "round_robin" }, { minChannels: 3, maxChannels: 6 }))
 * if (parsed._tag === "Valid") {
 *   let set = Backends.make(parsed.value)
 *   set = Backends.resolved(set, ["127.0.0.1:5001", "127.0.0.1:5002"]).state
 *   const picked = Backends.pick(set, () => ({ channels: 1, activeCalls: 0, waitingCalls: 0 }))
 *   console.log(picked.address) // 127.0.0.1:5001
 * }
 * ```
 * @since 0.1.0
 */
import type { Checker } from "../options.js"

/** grpc status UNAVAILABLE. */
export const UNAVAILABLE = 14

/** The option names this module reads (for the pool's `known` check). */
export const backendOptionKeys = ["loadBalancing", "minChannelsPerBackend", "maxChannelsPerBackend", "outlierDetection"] as const

/** The keys of `outlierDetection`. */
export const outlierDetectionKeys = ["consecutiveFailures", "baseEjectionTime", "maxEjectionTime", "maxEjectionPercent", "failureCodes"] as const

/** Names other libraries give these options (answered with ours). */
export const backendOptionAliases: Readonly<Record<string, string>> = {
  lbPolicy: "loadBalancing",
  loadBalancingPolicy: "loadBalancing",
  loadBalancingConfig: "loadBalancing",
  channelsPerBackend: "maxChannelsPerBackend",
  minChannelsPerHost: "minChannelsPerBackend",
  maxChannelsPerHost: "maxChannelsPerBackend",
  outlier_detection: "outlierDetection"
}

/** What a user writes (durations in the edition's Duration input `D`). */
export interface BackendOptionsInput<D = unknown> {
  readonly loadBalancing?: "round_robin" | "pick_first" | undefined
  readonly minChannelsPerBackend?: number | undefined
  readonly maxChannelsPerBackend?: number | undefined
  readonly outlierDetection?: OutlierDetectionInput<D> | false | undefined
}

/** `outlierDetection` as written. */
export interface OutlierDetectionInput<D = unknown> {
  readonly consecutiveFailures?: number | undefined
  readonly baseEjectionTime?: D | undefined
  readonly maxEjectionTime?: D | undefined
  readonly maxEjectionPercent?: number | undefined
  readonly failureCodes?: ReadonlyArray<number> | undefined
}

/** `outlierDetection`, checked (times in ms). */
export interface OutlierDetection {
  readonly consecutiveFailures: number
  readonly baseEjectionTime: number
  readonly maxEjectionTime: number
  readonly maxEjectionPercent: number
  readonly failureCodes: ReadonlyArray<number>
}

/** The options, checked. */
export interface BackendOptions {
  readonly loadBalancing: "round_robin" | "pick_first"
  readonly minChannels: number
  readonly maxChannels: number
  readonly minChannelsPerBackend: number
  readonly maxChannelsPerBackend: number
  /** `undefined`: off. */
  readonly outlierDetection: OutlierDetection | undefined
}

/**
 * Checks the backend options of `input` (a pool's whole options object may be passed: only these
 * keys are read; the pool checks unknown keys). `pool` is the pool's checked
 * `minChannels`/`maxChannels`.
 */
export const parseBackendOptions = <D>(
  check: Checker<D>,
  input: BackendOptionsInput<D> | undefined,
  pool: { readonly minChannels: number; readonly maxChannels: number }
): BackendOptions => {
  const loadBalancing = check.oneOf("loadBalancing", input?.loadBalancing, "round_robin", ["round_robin", "pick_first"])
  const maxChannelsPerBackend = check.integer("maxChannelsPerBackend", input?.maxChannelsPerBackend, pool.maxChannels, { min: 1 })
  if (maxChannelsPerBackend > pool.maxChannels) {
    check.fail("maxChannelsPerBackend", `must not exceed maxChannels (${pool.maxChannels}), got ${maxChannelsPerBackend}`)
  }
  const minChannelsPerBackend = check.integer("minChannelsPerBackend", input?.minChannelsPerBackend, 0, { min: 0 })
  if (minChannelsPerBackend > maxChannelsPerBackend) {
    check.fail("minChannelsPerBackend", `must not exceed maxChannelsPerBackend (${maxChannelsPerBackend}), got ${minChannelsPerBackend}`)
  }
  const raw: unknown = input?.outlierDetection
  let outlierDetection: OutlierDetection | undefined
  if (raw !== false) {
    if (raw !== undefined && (raw === null || typeof raw !== "object" || Array.isArray(raw))) {
      check.fail("outlierDetection", `must be an object or false, got ${raw === true ? "true" : describe(raw)}`)
    }
    const o = raw as OutlierDetectionInput<D> | undefined
    check.known(o, outlierDetectionKeys, { consecutive5xx: "consecutiveFailures", interval: "baseEjectionTime" }, "outlierDetection.")
    const consecutiveFailures = check.integer("outlierDetection.consecutiveFailures", o?.consecutiveFailures, 5, { min: 1, max: 1_000_000 })
    const timer = 2_147_483_647
    const baseEjectionTime = check.duration("outlierDetection.baseEjectionTime", o?.baseEjectionTime, 30_000 as D, { zero: "reject", infinity: "reject", max: timer })
    const maxEjectionTime = check.duration("outlierDetection.maxEjectionTime", o?.maxEjectionTime, 300_000 as D, { zero: "reject", infinity: "reject", max: timer })
    const maxEjectionPercent = check.number("outlierDetection.maxEjectionPercent", o?.maxEjectionPercent, 50, { min: 0, max: 100 })
    const codes: unknown = o?.failureCodes ?? [UNAVAILABLE]
    if (!Array.isArray(codes)) check.fail("outlierDetection.failureCodes", `must be an array of grpc status codes, got ${describe(codes)}`)
    for (const code of codes as ReadonlyArray<unknown>) {
      if (typeof code !== "number" || !Number.isInteger(code) || code < 1 || code > 16) {
        check.fail("outlierDetection.failureCodes", `must hold grpc status codes 1–16 (OK is never a failure), got ${describe(code)}`)
      }
    }
    outlierDetection = { consecutiveFailures, baseEjectionTime, maxEjectionTime, maxEjectionPercent, failureCodes: [...new Set(codes as ReadonlyArray<number>)] }
  }
  return { loadBalancing, minChannels: pool.minChannels, maxChannels: pool.maxChannels, minChannelsPerBackend, maxChannelsPerBackend, outlierDetection }
}

const describe = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "an array" : value !== null && typeof value === "object" ? "an object" : typeof value === "function" ? "a function" : String(value)

/** One backend (an address), as the state holds it. */
export interface Backend {
  readonly address: string
  /** Calls in a row that ended with a failure code. */
  readonly consecutiveFailures: number
  /** Times ejected since its last success after an ejection (the backoff multiplier). */
  readonly ejections: number
  /** Ejected until then (ms), or `undefined`. */
  readonly ejectedUntil: number | undefined
  /** When its last ejection began (ms; 0 never). */
  readonly ejectedAt: number
  /** Back from an ejection: its next call's result decides. */
  readonly probation: boolean
  /** Resolved no more: no new calls; its calls finish, then the shell closes it (`removed`). */
  readonly draining: boolean
}

/** The backends: in resolution order, and the round-robin cursor for ties. */
export interface BackendSet {
  readonly options: BackendOptions
  readonly backends: ReadonlyArray<Backend>
  readonly cursor: number
}

/** What the shell must do after a transition. */
export type Command =
  /** A new backend: create its channels (its share of the minimums). */
  | { readonly _tag: "Open"; readonly address: string }
  /** No new calls to it; close it once its calls end (then `removed`). */
  | { readonly _tag: "Drain"; readonly address: string }
  /** Resolved again while draining: in rotation again. */
  | { readonly _tag: "Undrain"; readonly address: string }
  /** Ejected until `until` (ms): arm a `tick` for then. */
  | { readonly _tag: "Eject"; readonly address: string; readonly until: number }
  /** Back in rotation (probation). */
  | { readonly _tag: "Unejected"; readonly address: string }

/** A transition's result. */
export interface Step {
  readonly state: BackendSet
  readonly commands: ReadonlyArray<Command>
}

/** What the shell knows of a backend's load now. */
export interface Load {
  /** Channels in rotation. */
  readonly channels: number
  /** Calls on those channels. */
  readonly activeCalls: number
  /**
   * Calls waiting for a channel of this backend (its channels are all busy at their stream
   * limit, or still connecting): the pick counts them as load, or a backend with a long queue
   * would keep getting half of the new calls.
   */
  readonly waitingCalls: number
  /**
   * The calls its channels take at once (channels × streams per channel), when the shell knows
   * it: a backend with a channel is full once `activeCalls` reach it. Unknown: full only with
   * calls waiting.
   */
  readonly capacity?: number | undefined
}

const none: ReadonlyArray<Command> = []

/** The score of a backend with no channel and no call waiting for one: after every backend with a free stream, before every full one. */
const NO_CHANNEL = 1e12

/** The score offset of a backend whose next call would wait (full, or calls queued): after `NO_CHANNEL`. */
const FULL = 2e12

/** An empty set (no backend until `resolved`). */
export const make = (options: BackendOptions): BackendSet => ({ options, backends: [], cursor: 0 })

const fresh = (address: string): Backend => ({
  address,
  consecutiveFailures: 0,
  ejections: 0,
  ejectedUntil: undefined,
  ejectedAt: 0,
  probation: false,
  draining: false
})

/**
 * A resolution: the addresses the target resolves to now (in the resolver's order; duplicates
 * count once). New ones are opened, gone ones drained, a draining one back is undrained. With
 * `pick_first` only the first address counts. An empty resolution keeps the backends there are
 * (as grpc does: no address is a resolution error, not "no server").
 */
export const resolved = (state: BackendSet, addresses: ReadonlyArray<string>): Step => {
  const unique = [...new Set(addresses)]
  const wanted = state.options.loadBalancing === "pick_first" ? unique.slice(0, 1) : unique
  if (wanted.length === 0) return { state, commands: none }
  const commands: Array<Command> = []
  const next: Array<Backend> = []
  const seen = new Set(wanted)
  for (const backend of state.backends) {
    if (seen.has(backend.address)) {
      if (backend.draining) {
        commands.push({ _tag: "Undrain", address: backend.address })
        next.push({ ...backend, draining: false })
      } else next.push(backend)
    } else if (!backend.draining) {
      commands.push({ _tag: "Drain", address: backend.address })
      next.push({ ...backend, draining: true, ejectedUntil: undefined })
    } else next.push(backend)
  }
  const known = new Set(state.backends.map((b) => b.address))
  for (const address of wanted) {
    if (known.has(address)) continue
    commands.push({ _tag: "Open", address })
    next.push(fresh(address))
  }
  // resolution order for the live ones, the draining after them
  const order = new Map(wanted.map((a, i) => [a, i]))
  next.sort((a, b) => (order.get(a.address) ?? Infinity) - (order.get(b.address) ?? Infinity))
  return { state: { ...state, backends: next }, commands }
}

/** A drained backend is closed: it leaves the set. */
export const removed = (state: BackendSet, address: string): BackendSet => {
  const backends = state.backends.filter((b) => b.address !== address || !b.draining)
  return backends.length === state.backends.length ? state : { ...state, backends }
}

/** The backends in rotation (neither draining nor ejected). */
export const inRotation = (state: BackendSet): ReadonlyArray<Backend> =>
  state.backends.filter((b) => !b.draining && b.ejectedUntil === undefined)

const live = (state: BackendSet): ReadonlyArray<Backend> => state.backends.filter((b) => !b.draining)

const replace = (state: BackendSet, index: number, backend: Backend): BackendSet => {
  const backends = state.backends.slice()
  backends[index] = backend
  return { ...state, backends }
}

/**
 * A call on `address` ended with grpc status `code` at `now` (ms). Counts consecutive failures
 * (codes in `failureCodes`); the `consecutiveFailures`-th ejects the backend (backoff
 * `baseEjectionTime × ejections` capped at `maxEjectionTime`) unless `maxEjectionPercent` forbids.
 * A backend on probation is ejected again by its first failure; its first success clears it.
 */
export const callEnded = (state: BackendSet, address: string, code: number, now: number): Step => {
  const od = state.options.outlierDetection
  if (od === undefined) return { state, commands: none }
  const index = state.backends.findIndex((b) => b.address === address)
  if (index < 0) return { state, commands: none }
  const backend = state.backends[index]!
  if (backend.draining || backend.ejectedUntil !== undefined) return { state, commands: none }
  if (!od.failureCodes.includes(code)) {
    if (backend.consecutiveFailures === 0 && !backend.probation) return { state, commands: none }
    return {
      state: replace(state, index, { ...backend, consecutiveFailures: 0, probation: false, ejections: 0 }),
      commands: none
    }
  }
  const failures = backend.consecutiveFailures + 1
  if (failures < od.consecutiveFailures && !backend.probation) {
    return { state: replace(state, index, { ...backend, consecutiveFailures: failures }), commands: none }
  }
  const others = live(state)
  const ejected = others.filter((b) => b.ejectedUntil !== undefined).length
  if (((ejected + 1) / others.length) * 100 > od.maxEjectionPercent) {
    // may not eject: keeps counting (a later call may, once another is back)
    return { state: replace(state, index, { ...backend, consecutiveFailures: failures }), commands: none }
  }
  const ejections = backend.ejections + 1
  const cap = Math.max(od.baseEjectionTime, od.maxEjectionTime)
  const until = now + Math.min(od.baseEjectionTime * ejections, cap)
  return {
    state: replace(state, index, { ...backend, consecutiveFailures: 0, ejections, ejectedUntil: until, ejectedAt: now, probation: false }),
    commands: [{ _tag: "Eject", address, until }]
  }
}

/** Time passed: backends whose ejection is over at `now` are back, on probation. */
export const tick = (state: BackendSet, now: number): Step => {
  let backends: Array<Backend> | undefined
  const commands: Array<Command> = []
  state.backends.forEach((b, i) => {
    if (b.ejectedUntil !== undefined && b.ejectedUntil <= now) {
      backends ??= state.backends.slice()
      backends[i] = { ...b, ejectedUntil: undefined, probation: true, consecutiveFailures: 0 }
      commands.push({ _tag: "Unejected", address: b.address })
    }
  })
  return backends === undefined ? { state, commands: none } : { state: { ...state, backends }, commands }
}

/** The earliest time an ejection ends (for the shell's timer), or `undefined`. */
export const nextTick = (state: BackendSet): number | undefined => {
  let next: number | undefined
  for (const b of state.backends) if (b.ejectedUntil !== undefined && (next === undefined || b.ejectedUntil < next)) next = b.ejectedUntil
  return next
}

/** `pick`'s result: the backend for the call (`undefined` only with no live backend) and the next state (cursor moved). */
export interface Picked {
  readonly address: string | undefined
  readonly state: BackendSet
}

/** A backend's score for `pick` (lower first). */
const scoreOf = (l: Load): number => {
  const calls = l.activeCalls + l.waitingCalls
  if (l.waitingCalls === 0 && l.channels > 0 && (l.capacity === undefined || l.activeCalls < l.capacity)) return calls / l.channels
  if (l.channels === 0 && l.waitingCalls === 0) return NO_CHANNEL + l.activeCalls
  return FULL + calls / Math.max(1, l.channels)
}

/**
 * The backend for a new call, among those in rotation, in three ranks (ties round-robin from
 * the cursor):
 * 1. a backend with a channel that has a free stream (no call waiting, `activeCalls` under its
 *    `capacity` when known): the fewest calls per channel — a warm backend is used before a
 *    channel is opened anywhere;
 * 2. a backend with no channel and no call waiting for one (its first channel opens for this
 *    call: a backend always has room for one, its `maxChannels` share is at least 1);
 * 3. a backend whose next call would wait — its channels full, calls queued, or connecting with
 *    calls waiting: the fewest calls, active and waiting, per channel (per one, with none), so a
 *    backend at its channel cap with a queue is passed over for one as busy without.
 * With every live backend ejected, the one ejected longest ago.
 */
export const pick = (state: BackendSet, load: (address: string) => Load): Picked => {
  const backends = state.backends
  const n = backends.length
  if (n === 1) {
    const only = backends[0]!
    return { address: only.draining ? undefined : only.address, state }
  }
  let best = -1
  let bestScore = Infinity
  for (let k = 0; k < n; k++) {
    const i = (state.cursor + k) % n
    const b = backends[i]!
    if (b.draining || b.ejectedUntil !== undefined) continue
    // calls queued for its channels are load too: a backend at its channel cap with a queue
    // scores above one as busy without (the active calls alone tie them at the stream limit)
    const score = scoreOf(load(b.address))
    if (score < bestScore) {
      best = i
      bestScore = score
    }
  }
  if (best < 0) {
    let oldest: Backend | undefined
    for (const b of backends) if (!b.draining && (oldest === undefined || b.ejectedAt < oldest.ejectedAt)) oldest = b
    return { address: oldest?.address, state }
  }
  return { address: backends[best]!.address, state: { ...state, cursor: (best + 1) % n } }
}

/**
 * Each live backend's minimum channels: the larger of `minChannelsPerBackend` and its share of
 * `minChannels` spread round-robin (not their sum), capped at `maxChannelsPerBackend` and, in all,
 * at `maxChannels` — given out in resolution order, so later backends may get fewer (or none).
 */
export const minimums = (state: BackendSet): ReadonlyMap<string, number> => {
  const o = state.options
  const backends = live(state)
  const result = new Map<string, number>()
  const n = backends.length
  let total = 0
  backends.forEach((b, i) => {
    const share = n === 0 ? 0 : Math.floor(o.minChannels / n) + (i < o.minChannels % n ? 1 : 0)
    const want = Math.min(o.maxChannelsPerBackend, Math.max(o.minChannelsPerBackend, share), Math.max(0, o.maxChannels - total))
    total += want
    result.set(b.address, want)
  })
  return result
}

/** Per-backend stats: the state's part plus the shell's load. */
export interface BackendStats {
  readonly address: string
  readonly channels: number
  readonly activeCalls: number
  /** Calls waiting for a channel of this backend. */
  readonly waitingCalls: number
  readonly ejected: boolean
  readonly ejectedUntil?: number | undefined
  readonly consecutiveFailures: number
  readonly draining: boolean
}

/** The stats of every backend. */
export const backendStats = (state: BackendSet, load: (address: string) => Load): ReadonlyArray<BackendStats> =>
  state.backends.map((b) => {
    const l = load(b.address)
    const stats: BackendStats = {
      address: b.address,
      channels: l.channels,
      activeCalls: l.activeCalls,
      waitingCalls: l.waitingCalls,
      ejected: b.ejectedUntil !== undefined,
      consecutiveFailures: b.consecutiveFailures,
      draining: b.draining
    }
    return b.ejectedUntil === undefined ? stats : { ...stats, ejectedUntil: b.ejectedUntil }
  })

/**
 * A resolved address (grpc-js's `subchannelAddressToString`: `1.2.3.4:80`, `[::1]:80`, or a
 * socket path) as a one-address grpc target: `ipv4:1.2.3.4:80`, `ipv6:[::1]:80`, `unix:/path`.
 */
export const addressTarget = (address: string): string => {
  if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) return `ipv4:${address}`
  if (/^\[[0-9a-fA-F:.%\w]*\]:\d+$/.test(address)) return `ipv6:${address}`
  return `unix:${address}`
}
