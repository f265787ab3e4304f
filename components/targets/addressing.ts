/**
 * Addressing is a strategy: how node i of a tier is named, reached by its peers, and reached by the
 * clients it is meant for. It is the only thing that differs between Docker (container DNS names,
 * published host ports), Kubernetes (pod DNS names through the headless Service) and the local test
 * harness (127.0.0.1, a distinct port per node and service). Tier models take an `Addressing` and stay
 * pure.
 */
export interface HostPort {
  host: string;
  port: number;
}

export interface Addressing {
  /** Stable name of node i (container name, pod name, or `<tier>-<i>` locally). */
  nodeName(node: number): string;
  /** The name peers and in-target clients use to reach node i. */
  peerHost(node: number): string;
  /** The address listeners bind to. */
  bindHost: string;
  /** The port node i listens on for `service`. */
  port(node: number, service: string): number;
  /**
   * Where the clients this target serves reach node i's `service`: the published host port on Docker
   * (clients run on the host), the pod DNS name on Kubernetes (clients run in the cluster).
   */
  client(node: number, service: string): HostPort;
}

/** Container port per service name, e.g. `{ client: 4222, cluster: 6222, monitor: 8222 }`. */
export type ServicePorts = Readonly<Record<string, number>>;

function portOf(ports: ServicePorts, service: string): number {
  const port = ports[service];
  if (port === undefined) throw new Error(`no port named \`${service}\` (known: ${Object.keys(ports).join(", ")})`);
  return port;
}

/** Docker: containers reach each other by name on the stage network; the host uses published ports. */
export function dockerAddressing(args: {
  containerName: (node: number) => string;
  ports: ServicePorts;
  /** Host port of node 0 per published service; node i publishes `base + i`. */
  published: Readonly<Record<string, number>>;
  /** The host address clients on the deploying machine use (the bind address of published ports). */
  clientHost: string;
}): Addressing {
  return {
    nodeName: args.containerName,
    peerHost: args.containerName,
    bindHost: "0.0.0.0",
    port: (_node, service) => portOf(args.ports, service),
    client: (node, service) => {
      const base = args.published[service];
      return base === undefined
        ? { host: args.containerName(node), port: portOf(args.ports, service) }
        : { host: args.clientHost, port: base + node };
    },
  };
}

/** Kubernetes: pod `<sts>-<i>` is reachable as `<sts>-<i>.<headless>.<ns>.svc.cluster.local`. */
export function kubernetesAddressing(args: {
  statefulSet: string;
  headlessService: string;
  namespace: string;
  ports: ServicePorts;
  /** Node ids may not start at 0 (Kafka brokers after dedicated controllers); pods always do. */
  podOrdinal?: (node: number) => number;
}): Addressing {
  const podName = (node: number) => `${args.statefulSet}-${args.podOrdinal ? args.podOrdinal(node) : node}`;
  const host = (node: number) => `${podName(node)}.${args.headlessService}.${args.namespace}.svc.cluster.local`;
  return {
    nodeName: podName,
    peerHost: host,
    bindHost: "0.0.0.0",
    port: (_node, service) => portOf(args.ports, service),
    client: (node, service) => ({ host: host(node), port: portOf(args.ports, service) }),
  };
}

/** The local harness: every node is a process on 127.0.0.1 with its own port per service. */
export function localAddressing(args: { tier: string; ports: Readonly<Record<string, readonly number[]>> }): Addressing {
  const port = (node: number, service: string) => {
    const value = args.ports[service]?.[node];
    if (value === undefined) throw new Error(`no local port for ${args.tier} node ${node} service \`${service}\``);
    return value;
  };
  return {
    nodeName: (node) => `${args.tier}-${node}`,
    peerHost: () => "127.0.0.1",
    bindHost: "127.0.0.1",
    port,
    client: (node, service) => ({ host: "127.0.0.1", port: port(node, service) }),
  };
}
