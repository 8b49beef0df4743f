/**
 * @since 4.0.0
 */
export * as HttpPool from "./HttpPool.js"
