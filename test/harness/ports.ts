/**
 * Free TCP ports on 127.0.0.1 for brokers started by the test harness. The kernel picks an ephemeral
 * port (listen on port 0), we read it and release it; the broker binds it right after. That leaves a
 * short race with other processes, so starters retry when the broker cannot bind (see `startProcess`'s
 * `attempts`).
 */
import { createServer, type Server } from "node:net";

/** The only address the harness ever binds or dials. */
export const LOCALHOST = "127.0.0.1";

function listenEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host: LOCALHOST, exclusive: true }, () => resolve(server));
  });
}

/**
 * `count` distinct free ports (e.g. a cluster's client, peer and monitor ports). Every listener is held
 * open until all ports are known, so the kernel cannot hand out the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, listenEphemeral));
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  if (ports.includes(0)) throw new Error("the kernel assigned no port");
  return ports;
}

/** One free port on 127.0.0.1. Also serves as a "server is down" address: nothing listens there. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}
