/**
 * @module
 * Binding a command's --host and --port, shared by the commands that serve HTTP (`coordinator`,
 * `site serve`): the usual failures become usage errors that name the flag.
 */
import { listen, type HttpListener } from "../http-listener.ts";
import { UsageError } from "./flags.ts";

/** Binds the address, turning the usual failures into usage errors that name the flag. */
export async function listenOn(host: string, port: number): Promise<HttpListener> {
  return listen(host, port).catch((err: NodeJS.ErrnoException) => {
    const code = err.code ?? "ERROR";
    if (code === "EADDRINUSE") throw new UsageError(`--port: ${host}:${port} is already in use`);
    if (code === "EACCES") throw new UsageError(`--port: not allowed to listen on ${host}:${port}`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`--host: ${host} is not an address of this machine`);
    throw new UsageError(`--host: cannot listen on ${host}:${port} (${code})`);
  });
}
