/**
 * @module
 * One HTTP server for the coordinator and its embedded store: requests under a mounted prefix
 * (`/store`) go to that handler, every other request to the app, which answers 503 `STARTING`
 * (with Retry-After) until it is attached. Listening errors reject, with node's error code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpListener {
  /** `http://host:port` as bound. */
  readonly url: string;
  /** Where this process reaches the server: the bound address, or loopback for a wildcard one. */
  readonly localUrl: string;
  mount(prefix: string, handler: NodeHandler): void;
  /** Attaches (or, with null, detaches) the handler of every path not mounted. */
  setApp(handler: NodeHandler | null): void;
  /** Stops accepting, then ends connections still open after `graceMs` (default 2 s). */
  close(graceMs?: number): Promise<void>;
}

const STARTING = JSON.stringify({ error: { code: "STARTING", message: "the coordinator is starting or stopping; try again shortly" } });

export const urlHost = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/**
 * @example
 * const listener = await listen("127.0.0.1", 0);
 * listener.setApp(getRequestListener(app.fetch));
 */
export async function listen(host: string, port: number): Promise<HttpListener> {
  const mounts: Array<[string, NodeHandler]> = [];
  let app: NodeHandler | null = null;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const mounted = mounts.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
    if (mounted) return mounted[1](req, res);
    if (app) return app(req, res);
    res.writeHead(503, { "content-type": "application/json", "retry-after": "1" }).end(STARTING);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const local = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost(host)}:${bound}`,
    localUrl: `http://${urlHost(local)}:${bound}`,
    mount: (prefix, handler) => void mounts.push([prefix, handler]),
    setApp: (handler) => void (app = handler),
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
