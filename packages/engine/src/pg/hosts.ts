/**
 * More than one Postgres server behind one pool, as libpq understands it: multi-host connection
 * strings and `host`/`port` lists, `target_session_attrs` (which server a session may land on)
 * and `load_balance_hosts` (the order hosts are tried in). Pure decisions, no driver import: an
 * edition parses its options with `parseTarget`, tries `hostOrder(target, Math.random)` in turn,
 * reads each session's state (`stateFromParameters`, else `stateQuery` + `stateFromRow`) and keeps
 * the first for which `sessionMatches` holds.
 *
 * @example
 * ```ts
 * import { hostOrder, parseTarget, sessionMatches } from "@effect-pool/engine/pg/hosts"
 *
 * const parsed = parseTarget({ url: "postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write" })
 * if (parsed._tag === "Valid") {
 *   const target = parsed.value
 *   hostOrder(target, Math.random) // [{ host: "h1", port: 5432 }, { host: "h2", port: 5433 }]
 *   sessionMatches(target.targetSessionAttrs, { inHotStandby: false, readOnly: false }) // true
 * }
 * ```
 * @since 0.1.0
 */
import { type Checked, describeValue, OptionInvalid } from "../options.js"

/** Which sessions a connection may keep (libpq's `target_session_attrs`). */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby"

/** The values of `targetSessionAttrs`, in libpq's order. */
export const targetSessionAttrsValues: ReadonlyArray<TargetSessionAttrs> = [
  "any",
  "read-write",
  "read-only",
  "primary",
  "standby",
  "prefer-standby"
]

/** The order hosts are tried in (libpq's `load_balance_hosts`). */
export type LoadBalanceHosts = "disable" | "random"

/** The values of `loadBalanceHosts`. */
export const loadBalanceHostsValues: ReadonlyArray<LoadBalanceHosts> = ["disable", "random"]

/** One server: a host name, an IP address (IPv6 without brackets) or a Unix socket directory. */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Where a pool connects: every host in libpq's order, and which session it keeps. */
export interface Target {
  readonly hosts: ReadonlyArray<HostPort>
  readonly targetSessionAttrs: TargetSessionAttrs
  readonly loadBalanceHosts: LoadBalanceHosts
}

/** What `parseTarget` reads (the options of the same names; `url` may hold several hosts). */
export interface TargetInput {
  readonly url?: unknown
  readonly host?: unknown
  readonly port?: unknown
  readonly targetSessionAttrs?: unknown
  readonly loadBalanceHosts?: unknown
}

/** Postgres' port when none is given. */
export const DEFAULT_PORT = 5432

/** The host when none is given (libpq would try a Unix socket; node-postgres uses localhost). */
export const DEFAULT_HOST = "localhost"

const invalid = (option: string, reason: string): never => {
  throw new OptionInvalid(option, reason)
}

const portOf = (option: string, value: unknown): number => {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535)
    return invalid(option, `${option} must be a port number from 1 to 65535, got ${describeValue(value)}`)
  return n
}

const hostsOf = (value: unknown): ReadonlyArray<string> => {
  const list =
    typeof value === "string"
      ? value.split(",")
      : Array.isArray(value)
        ? value
        : invalid("host", `host must be a string or an array of strings, got ${describeValue(value)}`)
  if (list.length === 0) return invalid("host", "host must name at least one host, got an empty array")
  return list.map((entry: unknown, i) => {
    if (typeof entry !== "string")
      return invalid("host", `host[${i}] must be a string, got ${describeValue(entry)}`)
    const host = entry.trim()
    const unbracketed = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
    if (unbracketed === "" || /[\s,/?#@]/.test(unbracketed.startsWith("/") ? "" : unbracketed))
      return invalid("host", `host must be a list of host names, got ${describeValue(value)}`)
    return unbracketed
  })
}

/** libpq: one port for every host, or exactly one per host (an empty entry is the default). */
const portsOf = (value: unknown, count: number): ReadonlyArray<number> => {
  if (value === undefined) return Array.from({ length: count }, () => DEFAULT_PORT)
  const list =
    typeof value === "number"
      ? [value]
      : typeof value === "string"
        ? value.split(",")
        : Array.isArray(value)
          ? value
          : invalid("port", `port must be a number, a string or an array, got ${describeValue(value)}`)
  const ports = list.map((entry: unknown) =>
    typeof entry === "string" && entry.trim() === "" ? DEFAULT_PORT : portOf("port", entry)
  )
  if (ports.length === 1) return Array.from({ length: count }, () => ports[0]!)
  if (ports.length !== count)
    return invalid("port", `port must give one port for every host or exactly one per host (${count}), got ${ports.length}`)
  return ports
}

const oneOf = <A extends string>(option: string, value: unknown, values: ReadonlyArray<A>, fallback: A): A => {
  if (value === undefined) return fallback
  if (typeof value === "string" && (values as ReadonlyArray<string>).includes(value)) return value as A
  return invalid(option, `${option} must be one of ${values.map((v) => `"${v}"`).join(", ")}, got ${describeValue(value)}`)
}

const decode = (option: string, text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return invalid(option, `url has a malformed percent-encoding in ${JSON.stringify(text.slice(0, 40))}`)
  }
}

/** The parts of a libpq-style URL this module reads; everything else stays in the URL. */
interface UrlParts {
  readonly prefix: string // "postgres://user:pass@"
  readonly hostList: string
  readonly suffix: string // "/db?..." (may be empty)
  readonly params: URLSearchParams
}

const URL_PATTERN = /^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)([^/?#]*)(.*)$/s

const splitUrl = (url: string): UrlParts => {
  const match = URL_PATTERN.exec(url)
  if (match === null) return invalid("url", "url must start with postgres:// or postgresql://")
  const suffix = match[3]!
  const q = suffix.indexOf("?")
  const query = q < 0 ? "" : suffix.slice(q + 1).split("#")[0]!
  return { prefix: match[1]!, hostList: match[2]!, suffix, params: new URLSearchParams(query) }
}

/** `h`, `h:5432`, `[::1]`, `[::1]:5432` → host and port (undefined: not given). */
const urlHost = (entry: string): { host: string; port: number | undefined } => {
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(entry)
  const [host, port] = v6 !== null ? [v6[1]!, v6[2]] : entry.includes(":") ? [entry.slice(0, entry.lastIndexOf(":")), entry.slice(entry.lastIndexOf(":") + 1)] : [entry, undefined]
  if (v6 === null && host.includes(":"))
    return invalid("url", `url host ${JSON.stringify(entry)}: an IPv6 address must be in brackets, e.g. [::1]:5432`)
  return {
    host: decode("url", host),
    port: port === undefined || port === "" ? undefined : portOf("url", port)
  }
}

const parseUnsafe = (input: TargetInput): Target => {
  if (input.url !== undefined && typeof input.url !== "string")
    invalid("url", `url must be a string, got ${describeValue(input.url)}`)
  let hosts: ReadonlyArray<HostPort>
  let attrs: unknown = input.targetSessionAttrs
  let balance: unknown = input.loadBalanceHosts
  const url = input.url as string | undefined
  const parts = url === undefined ? undefined : splitUrl(url)
  // as node-postgres: the host option, when given, wins over the url's hosts
  if (parts !== undefined && parts.hostList !== "" && input.host === undefined) {
    const fallbackPort = input.port === undefined ? DEFAULT_PORT : portsOf(input.port, 1)[0]!
    hosts = parts.hostList.split(",").map((entry) => {
      if (entry === "") return invalid("url", "url has an empty host in its host list")
      const { host, port } = urlHost(entry)
      if (host === "") return invalid("url", `url has an empty host in ${JSON.stringify(entry)}`)
      return { host, port: port ?? fallbackPort }
    })
  } else {
    // libpq's ?host=h1,h2&port=p1,p2 form: a list, as the host option's
    const fromQuery = parts?.params.get("host")
    const names = input.host === undefined ? (fromQuery == null ? [DEFAULT_HOST] : hostsOf(fromQuery)) : hostsOf(input.host)
    const ports = portsOf(input.port ?? parts?.params.get("port") ?? undefined, names.length)
    hosts = names.map((host, i) => ({ host, port: ports[i]! }))
  }
  if (parts !== undefined) {
    const fromUrl = (key: string, option: string, given: unknown): unknown => {
      const value = parts.params.get(key)
      if (value === null) return given
      if (given !== undefined && given !== value)
        invalid(option, `${option} ${describeValue(given)} contradicts the url's ${key}=${value}`)
      return value
    }
    attrs = fromUrl("target_session_attrs", "targetSessionAttrs", attrs)
    balance = fromUrl("load_balance_hosts", "loadBalanceHosts", balance)
  }
  return {
    hosts,
    targetSessionAttrs: oneOf("targetSessionAttrs", attrs, targetSessionAttrsValues, "any"),
    loadBalanceHosts: oneOf("loadBalanceHosts", balance, loadBalanceHostsValues, "disable")
  }
}

/**
 * The target of `input`: a multi-host `url` (`postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write&load_balance_hosts=random`,
 * IPv6 in brackets, a host without a port takes `port` or 5432) or `host` (`"h1,h2"` or an array)
 * with `port` (one for every host, or exactly one per host, as libpq). A failure is a value
 * naming the option; it never throws.
 */
export const parseTarget = (input: TargetInput): Checked<Target> => {
  try {
    return { _tag: "Valid", value: parseUnsafe(input) }
  } catch (e) {
    if (e instanceof OptionInvalid) return e
    throw e
  }
}

/**
 * `url` with its host list replaced by `host` alone and the query keys this module reads
 * removed: what a single-host driver (node-postgres) can parse.
 */
export const urlFor = (url: string, host: HostPort): string => {
  const parts = splitUrl(url)
  const q = parts.suffix.indexOf("?")
  const path = q < 0 ? parts.suffix : parts.suffix.slice(0, q)
  const params = new URLSearchParams(parts.params)
  params.delete("target_session_attrs")
  params.delete("load_balance_hosts")
  params.delete("host")
  params.delete("port")
  const query = params.toString()
  const name = host.host.includes(":") ? `[${host.host}]` : encodeURIComponent(host.host)
  return `${parts.prefix}${name}:${host.port}${path}${query === "" ? "" : `?${query}`}`
}

/**
 * The order to try `target.hosts` in: as given (`disable`), or shuffled with `random` (a
 * Fisher–Yates shuffle, as libpq's `load_balance_hosts=random`).
 */
export const hostOrder = (target: Target, random: () => number): ReadonlyArray<HostPort> => {
  if (target.loadBalanceHosts === "disable" || target.hosts.length < 2) return target.hosts
  const order = target.hosts.slice()
  for (let i = order.length - 1; i > 0; i--) {
    const r = random()
    const j = Math.min(i, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * (i + 1))))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order
}

/** What a session reports about its server. */
export interface SessionState {
  /** The server is a hot standby (`in_hot_standby`, `pg_is_in_recovery()`). */
  readonly inHotStandby: boolean
  /** New transactions are read-only by default (`default_transaction_read_only`, `transaction_read_only`). */
  readonly readOnly: boolean
}

/** Whether `attrs` needs the session state at all (`any` does not: no extra cost). */
export const needsState = (attrs: TargetSessionAttrs): boolean => attrs !== "any"

/** How many passes over the hosts `attrs` takes: 2 for `prefer-standby` (standbys, then any). */
export const passes = (attrs: TargetSessionAttrs): number => (attrs === "prefer-standby" ? 2 : 1)

/**
 * Whether a session in `state` may be kept for `attrs`, with libpq's meaning: `read-write` wants
 * a server that is neither a hot standby nor read-only by default, `read-only` the opposite;
 * `primary`/`standby` look at recovery only; `prefer-standby` takes a standby on the first
 * `pass` (0) and any server on the second (1), as libpq retries every host; `any` takes all.
 */
export const sessionMatches = (attrs: TargetSessionAttrs, state: SessionState, pass = 0): boolean => {
  switch (attrs) {
    case "any":
      return true
    case "read-write":
      return !state.inHotStandby && !state.readOnly
    case "read-only":
      return state.inHotStandby || state.readOnly
    case "primary":
      return !state.inHotStandby
    case "standby":
      return state.inHotStandby
    case "prefer-standby":
      return pass > 0 || state.inHotStandby
  }
}

/**
 * Whether a pooled session, kept when it matched, stays in the pool now that its server is in
 * `state` (a switchover seen later): as `sessionMatches`, except that `prefer-standby` keeps
 * every session — it takes any server in the end, so a promoted standby still serves it. The
 * same decision in both editions.
 */
export const stillMatches = (attrs: TargetSessionAttrs, state: SessionState): boolean =>
  attrs === "prefer-standby" || sessionMatches(attrs, state)

/** Why a session in `state` was refused for `attrs` (for the creation error). */
export const describeMismatch = (attrs: TargetSessionAttrs, state: SessionState): string =>
  `${state.inHotStandby ? "a hot standby" : "not in recovery"}, ${state.readOnly ? "read-only" : "read-write"} by default; wanted ${attrs}`

/**
 * Why a pooled session on a server in `state` no longer matches `attrs` (a switchover seen after
 * it was kept): `PgPool.stats`'s `lastMismatch`, the same text in both editions.
 */
export const describeChange = (attrs: TargetSessionAttrs, state: SessionState): string =>
  `now ${describeMismatch(attrs, state)}`

/**
 * The state from the ParameterStatus a server reported at startup (PG ≥ 14 reports both
 * `in_hot_standby` and `default_transaction_read_only`), or `undefined` when one is missing:
 * ask `stateQuery` then.
 */
export const stateFromParameters = (parameters: Readonly<Record<string, unknown>>): SessionState | undefined => {
  const standby = parameters.in_hot_standby
  const readOnly = parameters.default_transaction_read_only
  if (typeof standby !== "string" || typeof readOnly !== "string") return undefined
  return { inHotStandby: standby === "on", readOnly: readOnly === "on" }
}

/** The SQL that reads a session's state when the server did not report it (one row, two columns). */
export const stateQuery =
  "SELECT pg_catalog.pg_is_in_recovery() AS in_hot_standby, pg_catalog.current_setting('transaction_read_only') AS read_only"

/** The state from `stateQuery`'s row (booleans or Postgres' `t`/`on` text), `undefined` if not that row. */
export const stateFromRow = (row: unknown): SessionState | undefined => {
  if (row === null || typeof row !== "object") return undefined
  const { in_hot_standby: standby, read_only: readOnly } = row as Record<string, unknown>
  const flag = (v: unknown): boolean | undefined =>
    typeof v === "boolean" ? v : v === "on" || v === "t" || v === "true" ? true : v === "off" || v === "f" || v === "false" ? false : undefined
  const s = flag(standby)
  const r = flag(readOnly)
  return s === undefined || r === undefined ? undefined : { inHotStandby: s, readOnly: r }
}

/** The ParameterStatus names that change a session's state when reported mid-session. */
export const stateParameters: ReadonlyArray<string> = ["in_hot_standby", "default_transaction_read_only"]

/**
 * Whether a read-only signal from a pooled session puts its server in doubt: `claimed` is the
 * session's state taken at the signal's word — a 25006 says read-only, a
 * `default_transaction_read_only` report says its value — and the signal counts when that no
 * longer matches `attrs` (under `"read-write"` a 25006 or a report of `on`; under `"read-only"` a
 * report of `off` on a server not in recovery). Such a signal suspends the host and is confirmed
 * by a fresh session (`HostBook.suspect`, `judgeReadOnlySignal`); others change nothing. The
 * same decision in both editions.
 */
export const doubtsServer = (attrs: TargetSessionAttrs, claimed: SessionState): boolean => !stillMatches(attrs, claimed)

/**
 * How long a fresh session confirming a read-only signal may take (ms): the pool's
 * `connectTimeout`, or 10 s when that is none (0, `Infinity`) — a confirmation keeps its host
 * suspended, so it is never unbounded. The same bound in both editions.
 */
export const confirmationTimeoutMillis = (connectTimeoutMillis: number | undefined): number =>
  connectTimeoutMillis !== undefined && Number.isFinite(connectTimeoutMillis) && connectTimeoutMillis > 0 ? connectTimeoutMillis : 10_000

/**
 * What a pooled session's read-only signal (a 25006, or a `default_transaction_read_only`
 * ParameterStatus) means, once a fresh session on the same server told its `server` state:
 * `server` — the server itself no longer matches `attrs` (a reload, a demotion): its host's
 * connections go and the mismatch is recorded; `session` — the server still matches but this
 * session, read-only by default on its own or not (`sessionReadOnly`: its own SET
 * default_transaction_read_only), does not: only this connection is discarded (it is dirty), no
 * mismatch; `keep` — the transaction's own read-only-ness (`SET TRANSACTION READ ONLY`), nothing
 * changed. The same decision in both editions.
 */
export const judgeReadOnlySignal = (
  attrs: TargetSessionAttrs,
  server: SessionState,
  sessionReadOnly: boolean
): "server" | "session" | "keep" =>
  !stillMatches(attrs, server)
    ? "server"
    : !stillMatches(attrs, { inHotStandby: server.inHotStandby, readOnly: sessionReadOnly })
    ? "session"
    : "keep"

/** SQLSTATE 25006 `read_only_sql_transaction`: a write reached a read-only server or transaction. */
export const isReadOnlyViolation = (sqlstate: unknown): boolean => sqlstate === "25006"

/** One key per server for per-host bookkeeping: `host:port`, IPv6 in brackets. */
export const hostKey = (host: HostPort): string =>
  `${host.host.includes(":") ? `[${host.host}]` : host.host}:${host.port}`

/** What the host book needs of a pooled connection's item (the core's `ItemHandle` has both). */
export interface HostItem {
  /** Borrowers holding it now: 0 is idle. */
  readonly borrowers: number
  /** Out of rotation (being destroyed, or when returned): not counted. */
  readonly invalidated?: boolean | undefined
  /** Do not lend it again: destroyed now when idle, else when returned. */
  invalidate(): void
  /** Out of rotation (not lent), alive, until `resume` (the core's `ItemHandle` has both). */
  suspend?(): void
  resume?(): void
}

/**
 * One server of a pool: its connections (lent or idle) and idle ones, why its last connection
 * attempt failed (absent once one succeeds), and why its last session was refused or evicted for
 * not matching `targetSessionAttrs` (absent once a session on it is kept again). The shape of
 * `PgPool.stats`'s `hosts` in both editions.
 */
export interface HostStats {
  readonly host: string
  readonly port: number
  readonly connections: number
  readonly idle: number
  readonly lastError?: string | undefined
  readonly lastMismatch?: string | undefined
}

/**
 * Per-host bookkeeping of a pool over several servers, the same in both editions: which pooled
 * items are connected to which host (so a server that stops matching loses only its own
 * connections), the last failure and mismatch per host, and the stats.
 */
export interface HostBook {
  /** `item` is connected to `host` now (a session was kept): returns the removal, for its close. */
  readonly add: (host: HostPort, item: HostItem) => () => void
  /** A connection attempt to `host` failed with `message`. */
  readonly failed: (host: HostPort, message: string) => void
  /** A session on `host` did not match (at connect, or later: a switchover), with why. */
  readonly mismatched: (host: HostPort, why: string) => void
  /**
   * Every connection to `host` leaves rotation: idle ones now, lent ones when returned (a
   * transaction finishes on the server it began on). Other hosts' connections are untouched.
   * Returns how many were invalidated.
   */
  readonly evict: (host: HostPort) => number
  /** The stats of every host, in the target's order. */
  readonly stats: () => ReadonlyArray<HostStats>
  /**
   * A read-only signal that `doubtsServer` (a 25006, a `default_transaction_read_only` report)
   * from `item`'s session on `host`; `sessionReadOnly()` tells that session's own
   * `default_transaction_read_only` when the answer comes. The host is suspended at once: its
   * connections are not lent (idle ones leave rotation now, borrowed ones when returned: a
   * transaction finishes where it began), new connections try it last (`route`) — until
   * `confirmed`. Returns `true` when the caller must ask a fresh session on `host` (no
   * confirmation is under way for it yet), `false` when one is (this signal waits for its answer).
   */
  readonly suspect: (host: HostPort, item: HostItem, sessionReadOnly: () => boolean) => boolean
  /** A confirmation is under way for `host`: suspended. */
  readonly suspended: (host: HostPort) => boolean
  /**
   * The answer of the fresh session asked after `suspect`: the server's `server` state, or why
   * none was had (`failure`: it could not connect, timed out). Carried out here:
   * - the server no longer matches: `lastMismatch`, every connection to the host evicted
   *   ("server");
   * - it still matches: the host resumes, its connections stay; a signalling session that is
   *   read-only by default on its own (`judgeReadOnlySignal`'s "session") is discarded alone, no
   *   mismatch ("kept");
   * - no answer: the host resumes, the signalling sessions are discarded alone (the next signal
   *   asks again), `lastError` says why ("unconfirmed") — not an eviction of every connection on
   *   a guess, nor a host kept out of rotation for as long as it cannot be reached.
   */
  readonly confirmed: (
    host: HostPort,
    answer: { readonly server: SessionState } | { readonly failure: string }
  ) => "server" | "kept" | "unconfirmed" | "none"
  /** `order` (from `hostOrder`) with the suspended hosts last, in their order. */
  readonly route: (order: ReadonlyArray<HostPort>) => ReadonlyArray<HostPort>
}

interface HostEntry {
  readonly host: HostPort
  readonly items: Set<HostItem>
  lastError: string | undefined
  lastMismatch: string | undefined
  /** While suspended: the sessions that signalled, each with its own read-only-ness. */
  suspects: Map<HostItem, () => boolean> | undefined
  /** While suspended: the items held out of rotation. */
  held: Array<HostItem>
}

const newEntry = (host: HostPort): HostEntry => ({
  host,
  items: new Set(),
  lastError: undefined,
  lastMismatch: undefined,
  suspects: undefined,
  held: []
})

/** A host book for `target`'s hosts (a host named twice is one entry). */
export const makeHostBook = (target: Target): HostBook => {
  const attrs = target.targetSessionAttrs
  const entries = new Map<string, HostEntry>()
  for (const host of target.hosts) {
    const key = hostKey(host)
    if (!entries.has(key)) entries.set(key, newEntry(host))
  }
  const entryOf = (host: HostPort): HostEntry => {
    const key = hostKey(host)
    let entry = entries.get(key)
    if (entry === undefined) {
      entry = newEntry(host)
      entries.set(key, entry)
    }
    return entry
  }
  const evict = (host: HostPort): number => {
    const entry = entries.get(hostKey(host))
    if (entry === undefined) return 0
    // invalidate may remove the item from the set (its close): iterate over a copy
    const items = [...entry.items]
    for (const item of items) item.invalidate()
    return items.length
  }
  return {
    add: (host, item) => {
      const entry = entryOf(host)
      entry.items.add(item)
      entry.lastError = undefined
      entry.lastMismatch = undefined
      return () => {
        entry.items.delete(item)
      }
    },
    failed: (host, message) => {
      entryOf(host).lastError = message
    },
    mismatched: (host, why) => {
      entryOf(host).lastMismatch = why
    },
    evict: (host) => evict(host),
    suspect: (host, item, sessionReadOnly) => {
      const entry = entryOf(host)
      const first = entry.suspects === undefined
      if (first) entry.suspects = new Map()
      entry.suspects!.set(item, sessionReadOnly)
      const hold = (held: HostItem) => {
        if (held.invalidated === true || entry.held.includes(held)) return
        entry.held.push(held)
        held.suspend?.()
      }
      hold(item)
      if (first) for (const held of entry.items) hold(held)
      return first
    },
    suspended: (host) => entries.get(hostKey(host))?.suspects !== undefined,
    confirmed: (host, answer) => {
      const entry = entries.get(hostKey(host))
      if (entry?.suspects === undefined) return "none"
      const suspects = entry.suspects
      const held = entry.held
      entry.suspects = undefined
      entry.held = []
      // what goes is invalidated before the others are let back: nothing doomed is lent meanwhile
      let verdict: "server" | "kept" | "unconfirmed"
      if ("failure" in answer) {
        entry.lastError = `a read-only signal could not be confirmed: ${answer.failure}`
        for (const item of suspects.keys()) item.invalidate()
        verdict = "unconfirmed"
      } else if (!stillMatches(attrs, answer.server)) {
        entry.lastMismatch = describeChange(attrs, answer.server)
        evict(host)
        verdict = "server"
      } else {
        for (const [item, sessionReadOnly] of suspects) {
          if (judgeReadOnlySignal(attrs, answer.server, sessionReadOnly()) === "session") item.invalidate()
        }
        verdict = "kept"
      }
      for (const item of held) item.resume?.()
      return verdict
    },
    route: (order) => {
      const doubted = order.filter((host) => entries.get(hostKey(host))?.suspects !== undefined)
      return doubted.length === 0 ? order : [...order.filter((host) => !doubted.includes(host)), ...doubted]
    },
    stats: () =>
      [...entries.values()].map((entry) => {
        let connections = 0
        let idle = 0
        for (const item of entry.items) {
          if (item.invalidated === true) continue
          connections++
          if (item.borrowers === 0) idle++
        }
        const stats: HostStats = { host: entry.host.host, port: entry.host.port, connections, idle }
        return entry.lastError === undefined && entry.lastMismatch === undefined
          ? stats
          : {
            ...stats,
            ...(entry.lastError === undefined ? {} : { lastError: entry.lastError }),
            ...(entry.lastMismatch === undefined ? {} : { lastMismatch: entry.lastMismatch })
          }
      })
  }
}

/**
 * The stats of a pool on one server, where no book is kept (that path costs nothing extra):
 * the pool's own counts are the host's.
 */
export const singleHostStats = (host: HostPort, pool: { readonly size: number; readonly idle: number }): ReadonlyArray<HostStats> => [
  { host: host.host, port: host.port, connections: pool.size, idle: pool.idle }
]
