/**
 * The runtime-free engine of effect-pool, shared by the Effect 3 and Effect 4 editions: the
 * pool's state machine (`State`), option validation (`Options`), the pool configuration with
 * its defaults (`Config`) and how a user's callback is called (`Callback`). Nothing here imports
 * `effect`; an edition's shell runs the commands the state machine returns on its own runtime.
 *
 * @example
 * ```ts
 * import { Config, Options, State } from "@effect-pool/engine"
 *
 * const checker = Options.makeChecker<number>({ decode: (input) => (typeof input === "number" ? input : undefined) })
 * const parsed = Options.checkWith(checker, (check) => Config.parse(check, { max: 2 }))
 * if (parsed._tag === "Valid") {
 *   const state = new State.PoolState<string>(parsed.value)
 *   const out: Array<State.Command<string>> = []
 *   State.demand(state, out) // min is 0: nothing to create
 * }
 * ```
 * @since 0.1.0
 */
export * as Borrow from "./borrow.js"
export * as Callback from "./callback.js"
export * as Config from "./config.js"
export * as Options from "./options.js"
export * as State from "./state.js"
