/**
 * Option objects a user's code can hand a pool that throw when they are read: a getter that
 * throws, a Proxy whose `ownKeys` trap throws, and an own `__proto__` key (what `JSON.parse`
 * makes of one). Every kind's hostile tests check that each is a `PoolConfigError` naming the
 * option, never a defect. No effect import: both editions' tests use it.
 */

/** `base` (copied) with `key` an enumerable getter that throws. */
export const throwingGetter = <T extends object>(base: T, key: string): T =>
  Object.defineProperty({ ...base }, key, {
    enumerable: true,
    configurable: true,
    get() {
      throw new Error(`reading ${key} throws`)
    }
  })

/** `base` (copied) behind a Proxy whose `ownKeys` trap throws (the options cannot be listed). */
export const throwingKeys = <T extends object>(base: T): T =>
  new Proxy({ ...base }, {
    ownKeys() {
      throw new Error("listing the options throws")
    }
  })

/** `base` (copied) plus an own `__proto__` key holding `{ max: 5 }`: not an option of anyone's. */
export const protoKey = <T extends object>(base: T): T =>
  Object.assign(JSON.parse('{"__proto__": {"max": 5}}') as object, base) as T

/**
 * `base` (copied) behind a Proxy that lists only `base`'s keys and throws when any other key is
 * read: a pool that reads an option by name from the user's object (instead of from the copy it
 * checked) meets the throw as a defect.
 */
export const throwingReads = <T extends object>(base: T): T =>
  new Proxy({ ...base }, {
    get(target, key, receiver) {
      if (typeof key === "string" && !Object.hasOwn(target, key)) throw new Error(`reading ${key} throws`)
      return Reflect.get(target, key, receiver)
    }
  })
