/**
 * TEMPORARY stand-in for the engine's `@effect-pool/engine/pg/hosts` (engineer P3, branch
 * pg-multi), coded against its announced contract; removed when that module is merged.
 *
 * @internal
 */

export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby"
export type LoadBalanceHosts = "disable" | "random"

export interface HostPort {
  readonly host: string
  readonly port: number
}

export interface Target {
  readonly hosts: ReadonlyArray<HostPort>
  readonly targetSessionAttrs: TargetSessionAttrs
  readonly loadBalanceHosts: LoadBalanceHosts
}

export interface SessionState {
  readonly inHotStandby: boolean
  readonly readOnly: boolean
}

export const TARGET_SESSION_ATTRS: ReadonlyArray<TargetSessionAttrs> = [
  "any", "read-write", "read-only", "primary", "standby", "prefer-standby"
]
export const LOAD_BALANCE_HOSTS: ReadonlyArray<LoadBalanceHosts> = ["disable", "random"]

export type Parsed = { readonly ok: true; readonly value: Target } | { readonly ok: false; readonly option: string; readonly reason: string }

export interface TargetInput {
  /** The URL (already checked as a URL by the caller's checks), its authority possibly a host list. */
  readonly url?: string | undefined
  readonly host?: unknown
  readonly port?: unknown
  readonly targetSessionAttrs?: unknown
  readonly loadBalanceHosts?: unknown
}

const show = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : typeof value === "number" ? String(value) : Array.isArray(value) ? "an array" : value === null ? "null" : typeof value

/** `postgres://userinfo@hosts/rest` → its pieces (the host list may hold commas and `[v6]`). */
export const splitUrl = (url: string): { readonly prefix: string; readonly hosts: string; readonly rest: string } | undefined => {
  const match = /^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)([^/?#]*)(.*)$/i.exec(url)
  return match === null ? undefined : { prefix: match[1]!, hosts: match[2]!, rest: match[3]! }
}

class Fail {
  constructor(readonly option: string, readonly reason: string) {}
}

const portOf = (option: string, value: unknown): number => {
  const port = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Fail(option, `must be a port 1–65535, got ${show(value)}`)
  }
  return port
}

const listOf = (option: string, value: unknown): ReadonlyArray<unknown> =>
  typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : typeof value === "number" ? [value] : (() => {
    throw new Fail(option, `must be a string, a comma-separated list or an array, got ${show(value)}`)
  })()

export const parseTarget = (input: TargetInput): Parsed => {
  try {
    const attrs = input.targetSessionAttrs
    let targetSessionAttrs: TargetSessionAttrs = "any"
    let loadBalanceHosts: LoadBalanceHosts = "disable"
    let hosts: Array<{ host: string; port: number | undefined }> = []
    if (input.url !== undefined) {
      const parts = splitUrl(input.url)
      if (parts === undefined) throw new Fail("url", "is not a postgres:// URL")
      const query = parts.rest.includes("?") ? new URLSearchParams(parts.rest.slice(parts.rest.indexOf("?") + 1).split("#")[0]) : new URLSearchParams()
      if (parts.hosts !== "") {
        for (const entry of parts.hosts.split(",")) {
          const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(entry)
          const host = v6 !== null ? v6[1]! : entry.includes(":") ? entry.slice(0, entry.lastIndexOf(":")) : entry
          const port = v6 !== null ? v6[2] : entry.includes(":") ? entry.slice(entry.lastIndexOf(":") + 1) : undefined
          if (host === "") throw new Fail("url", "has an empty host in its host list")
          hosts.push({ host: decodeURIComponent(host), port: port === undefined || port === "" ? undefined : portOf("url", port) })
        }
      }
      const tsa = query.get("target_session_attrs")
      if (tsa !== null) {
        if (!(TARGET_SESSION_ATTRS as ReadonlyArray<string>).includes(tsa)) {
          throw new Fail("url", `target_session_attrs must be one of ${TARGET_SESSION_ATTRS.join(", ")}; got ${JSON.stringify(tsa)}`)
        }
        targetSessionAttrs = tsa as TargetSessionAttrs
      }
      const lb = query.get("load_balance_hosts")
      if (lb !== null) {
        if (!(LOAD_BALANCE_HOSTS as ReadonlyArray<string>).includes(lb)) {
          throw new Fail("url", `load_balance_hosts must be one of ${LOAD_BALANCE_HOSTS.join(", ")}; got ${JSON.stringify(lb)}`)
        }
        loadBalanceHosts = lb as LoadBalanceHosts
      }
      const qHost = query.get("host")
      if (qHost !== null) hosts = qHost.split(",").map((host) => ({ host, port: undefined }))
      const qPort = query.get("port")
      if (qPort !== null) {
        const ports = qPort.split(",").map((p) => portOf("url", p))
        if (ports.length !== 1 && ports.length !== Math.max(hosts.length, 1)) throw new Fail("url", `has ${ports.length} ports for ${hosts.length} hosts`)
        hosts = hosts.map((h, i) => ({ host: h.host, port: ports.length === 1 ? ports[0] : ports[i] }))
        if (hosts.length === 0) hosts = [{ host: "localhost", port: ports[0] }]
      }
    }
    if (input.host !== undefined) {
      const list = listOf("host", input.host)
      if (list.length === 0) throw new Fail("host", "must name at least one host")
      hosts = list.map((host) => {
        if (typeof host !== "string" || host.trim() === "") throw new Fail("host", `must hold non-empty host names, got ${show(host)}`)
        return { host: host.trim(), port: undefined }
      })
    }
    if (hosts.length === 0) hosts = [{ host: "localhost", port: undefined }]
    if (input.port !== undefined) {
      const ports = listOf("port", input.port).map((p) => portOf("port", p))
      if (ports.length !== 1 && ports.length !== hosts.length) {
        throw new Fail("port", `must be one port or exactly one per host (${hosts.length}), got ${ports.length}`)
      }
      hosts = hosts.map((h, i) => ({ host: h.host, port: ports.length === 1 ? ports[0] : ports[i] }))
    }
    if (attrs !== undefined) {
      if (typeof attrs !== "string" || !(TARGET_SESSION_ATTRS as ReadonlyArray<string>).includes(attrs)) {
        throw new Fail("targetSessionAttrs", `must be one of ${TARGET_SESSION_ATTRS.join(", ")}; got ${show(attrs)}`)
      }
      targetSessionAttrs = attrs as TargetSessionAttrs
    }
    if (input.loadBalanceHosts !== undefined) {
      const lb = input.loadBalanceHosts
      if (typeof lb !== "string" || !(LOAD_BALANCE_HOSTS as ReadonlyArray<string>).includes(lb)) {
        throw new Fail("loadBalanceHosts", `must be one of ${LOAD_BALANCE_HOSTS.join(", ")}; got ${show(lb)}`)
      }
      loadBalanceHosts = lb as LoadBalanceHosts
    }
    return {
      ok: true,
      value: { hosts: hosts.map((h) => ({ host: h.host, port: h.port ?? 5432 })), targetSessionAttrs, loadBalanceHosts }
    }
  } catch (error) {
    if (error instanceof Fail) return { ok: false, option: error.option, reason: error.reason }
    throw error
  }
}

/** libpq's check of a session against the attributes; `pass` 2 is prefer-standby's fallback. */
export const sessionMatches = (attrs: TargetSessionAttrs, state: SessionState, pass: 1 | 2 = 1): boolean => {
  switch (attrs) {
    case "any":
      return true
    case "read-write":
      return !state.readOnly
    case "read-only":
      return state.readOnly
    case "primary":
      return !state.inHotStandby
    case "standby":
      return state.inHotStandby
    case "prefer-standby":
      return pass === 2 || state.inHotStandby
  }
}

export const hostOrder = (target: Target, random: () => number): ReadonlyArray<HostPort> => {
  if (target.loadBalanceHosts === "disable" || target.hosts.length < 2) return target.hosts
  const order = target.hosts.slice()
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = order[i]!
    order[i] = order[j]!
    order[j] = swap
  }
  return order
}

export const stateQuery = "SELECT pg_catalog.pg_is_in_recovery() AS in_hot_standby, pg_catalog.current_setting('transaction_read_only') = 'on' AS read_only"

export const isReadOnlyViolation = (sqlstate: unknown): boolean => sqlstate === "25006"

export const hostKey = (host: HostPort): string => host.host.includes(":") ? `[${host.host}]:${host.port}` : `${host.host}:${host.port}`
