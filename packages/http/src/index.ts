export * as HttpPool from "./HttpPool.js"
