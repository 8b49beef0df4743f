
import { threadId } from "node:worker_threads"
class QuotaError extends Error { constructor() { super("over quota"); this.name = "QuotaError"; this.code = "E_QUOTA"; this.limit = 10 } }
export default (mode) => { if (mode === "throw") throw new QuotaError(); if (mode === "reject") return Promise.reject(new TypeError("bad type")); return threadId }
