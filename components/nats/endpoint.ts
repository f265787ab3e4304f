/**
 * The `nats` block of the endpoints contract, from the model. PURE. `monitorUrls` extends v1
 * compatibly: every node's monitoring URL, so the probe can judge the cluster when node 0 is the one down.
 */
import type { NatsModel } from "./model.js";

export interface NatsEndpoint {
  servers: string[];
  user?: string;
  password?: string;
  clusterSize: number;
  monitorUrl: string;
  monitorUrls: string[];
}

/** Everything but the password: where this target's clients reach every node. */
export function natsEndpointBlock(model: NatsModel): NatsEndpoint {
  const monitorUrls = model.nodes.map((n) => `http://${n.clientMonitor.host}:${n.clientMonitor.port}`);
  return {
    servers: model.nodes.map((n) => `nats://${n.client.host}:${n.client.port}`),
    ...(model.auth && { user: model.auth.user }),
    clusterSize: model.nodes.length,
    monitorUrl: monitorUrls[0] ?? "",
    monitorUrls,
  };
}
