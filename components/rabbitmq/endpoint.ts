/**
 * The `rabbitmq` block of the endpoints contract (PURE): `url` and `managementUrl` at the entry point
 * clients use (node 0 on Docker, the client Service on Kubernetes), plus every node's AMQP address and
 * management URL so the probe still gets through when the entry node is the one that is down.
 */
import type { HostPort } from "../targets/addressing.js";
import type { RabbitmqModel } from "./model.js";

export interface RabbitmqEndpointBlock {
  url: string;
  managementUrl: string;
  clusterSize: number;
  addresses: string[];
  managementUrls: string[];
}

export interface RabbitmqEntry {
  amqp: HostPort;
  management: HostPort;
}

const hostPort = (address: HostPort): string => `${address.host}:${address.port}`;

/** `amqp://bus:<password>@host:port/botplatform`; the password is URL-encoded (a given one may hold `@`). */
export function amqpUrl(model: RabbitmqModel, password: string, at: HostPort): string {
  return `amqp://${encodeURIComponent(model.user.name)}:${encodeURIComponent(password)}@${hostPort(at)}/${encodeURIComponent(model.vhost)}`;
}

export function rabbitmqEndpointBlock(model: RabbitmqModel, password: string, entry?: RabbitmqEntry): RabbitmqEndpointBlock {
  const first = model.nodes[0];
  if (first === undefined) throw new Error("a RabbitMQ model without nodes has no endpoint");
  const at = entry ?? first.client;
  return {
    url: amqpUrl(model, password, at.amqp),
    managementUrl: `http://${hostPort(at.management)}`,
    clusterSize: model.clusterSize,
    addresses: model.nodes.map((node) => hostPort(node.client.amqp)),
    managementUrls: model.nodes.map((node) => `http://${hostPort(node.client.management)}`),
  };
}
