import type { HttpHandlerOptions } from "@smithy/types";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * Sends the SDK's requests to this machine's own listener whatever origin they are addressed to,
 * keeping their Host header and path: the coordinator signs and presigns for the public address
 * the sites use (perhaps https, behind a TLS proxy) and reaches its store over loopback.
 */
export class LocalRouteHandler extends NodeHttpHandler {
  constructor(private readonly local: URL) {
    super();
  }

  override handle(request: Parameters<NodeHttpHandler["handle"]>[0], options?: HttpHandlerOptions): ReturnType<NodeHttpHandler["handle"]> {
    const hostname = this.local.hostname.replace(/^\[(.*)\]$/, "$1");
    return super.handle(Object.assign(Object.create(Object.getPrototypeOf(request) as object) as typeof request, request, { protocol: "http:", hostname, port: Number(this.local.port) }), options);
  }
}
