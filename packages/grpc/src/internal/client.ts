/**
 * `GrpcPool.client`: a generated client constructor's methods as Effect functions.
 *
 * @internal
 */
import type * as grpc from "@grpc/grpc-js"
import type * as Stream from "effect/Stream"
import type { CallOptions } from "./callOptions.js"
import type { CallError } from "./errors.js"
import type { GrpcPoolImpl } from "./pool.js"
import { clientStream, streamed, writeAll } from "./streams.js"
import { callOptionsOf, type Method, unary } from "./unary.js"

/** The methods of a generated client constructor, as Effect functions. */
export const clientOf = (impl: GrpcPoolImpl, clientConstructor: grpc.ServiceClientConstructor): Record<string, unknown> => {
  const methods: Record<string, unknown> = {}
  for (const [name, definition] of Object.entries(clientConstructor.service)) {
    const { path, requestSerialize, responseDeserialize, requestStream, responseStream } = definition
    const md = definition as Method
    let method: unknown
    if (!requestStream && !responseStream) {
      method = (request: unknown, options?: CallOptions) => unary(impl, md, request, options)
    } else if (!requestStream && responseStream) {
      method = (request: unknown, options?: CallOptions) =>
        streamed(impl, options, (pooled, parsed) => pooled.client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, parsed.metadata, callOptionsOf(md, parsed)))
    } else if (requestStream && !responseStream) {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) => clientStream(impl, md, requests, options)
    } else {
      method = (requests: Stream.Stream<unknown, CallError>, options?: CallOptions) =>
        streamed(impl, 
          options,
          (pooled, parsed) => pooled.client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, parsed.metadata, callOptionsOf(md, parsed)),
          // a failing writer cancels the call, which fails with its error (see streamed)
          (call) => writeAll(requests, call)
        )
    }
    methods[name] = method
    if (typeof definition.originalName === "string") methods[definition.originalName] = method
  }
  return methods
}
