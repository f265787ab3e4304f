/**
 * NATS cluster health from the monitoring endpoints (`/varz`, `/routez`, `/jsz`) of every node the
 * probe can reach. Fetching is separate from judging: `judgeCluster` is a pure function over the
 * snapshots, so every verdict (pass, a named node down, quorum lost) is unit-tested without servers.
 */
import { NotReadyError, type ProbeContext } from "./probe.js";
import { redact } from "./redact.js";
import type { StepOutcome } from "./steps.js";
import { errorMessage, remainingMs } from "./steps.js";

/** One monitoring request; a local server answers in milliseconds, a partitioned one never. */
export const MONITOR_TIMEOUT_MS = 2 * 1000; // 2 s
/** How a verdict on peers that are up but behind starts: the probe looks again before it says so. */
export const LAGGING_PEERS = "JetStream peers not current:";

export interface PeerInfo {
  name: string;
  current: boolean;
  offline?: boolean;
  lag?: number;
}

/** What one node's monitoring endpoint said (only the fields the judgement reads). */
export type NodeSnapshot =
  | { url: string; reachable: false; error: string }
  | {
      url: string;
      reachable: true;
      serverName: string;
      /** Distinct peers this node has routes to (route pooling opens several per peer). */
      routedPeers: string[];
      /** Absent when JetStream runs without a cluster (a single node). */
      meta?: { leader?: string; clusterSize?: number; replicas?: PeerInfo[] };
      jetstreamEnabled: boolean;
      /** The JetStream meta group's other members as this node knows them (`/raftz`); names down servers. */
      metaPeers: string[];
    };

interface Varz {
  server_name?: string;
}
interface Routez {
  routes?: { remote_name?: string }[];
}
/** `/raftz?acc=$SYS&group=_meta_` (nats-server 2.10.x+): account -> group -> peers by id. */
type Raftz = Record<string, Record<string, { peers?: Record<string, { name?: string }> }>>;
interface Jsz {
  disabled?: boolean;
  config?: unknown;
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: PeerInfo[] };
}

async function getJson<T>(url: string, ctx: Pick<ProbeContext, "signal" | "deadline" | "now">): Promise<T> {
  const timeout = Math.max(1, Math.min(MONITOR_TIMEOUT_MS, remainingMs(ctx)));
  const response = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeout)]) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}

/** Reads one node's monitoring endpoint; an unreachable node is a snapshot too, not an error. */
export async function fetchSnapshot(url: string, ctx: Pick<ProbeContext, "signal" | "deadline" | "now">): Promise<NodeSnapshot> {
  const base = url.replace(/\/+$/, "");
  try {
    const [varz, routez, jsz, raftz] = await Promise.all([
      getJson<Varz>(`${base}/varz`, ctx),
      getJson<Routez>(`${base}/routez`, ctx),
      getJson<Jsz>(`${base}/jsz`, ctx),
      // Optional: a single node, or a server without /raftz, has no meta group to list.
      getJson<Raftz>(`${base}/raftz?acc=%24SYS&group=_meta_`, ctx).catch(() => ({}) as Raftz),
    ]);
    const metaPeers = Object.values(raftz.$SYS?._meta_?.peers ?? {})
      .map((p) => p.name)
      .filter((n): n is string => typeof n === "string" && n !== "");
    const routedPeers = [...new Set((routez.routes ?? []).map((r) => r.remote_name).filter((n): n is string => typeof n === "string" && n !== ""))].sort();
    const meta = jsz.meta_cluster && { leader: jsz.meta_cluster.leader || undefined, clusterSize: jsz.meta_cluster.cluster_size, replicas: jsz.meta_cluster.replicas };
    return { url, reachable: true, serverName: varz.server_name ?? base, routedPeers, meta, jetstreamEnabled: jsz.disabled !== true && jsz.config !== undefined, metaPeers };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return { url, reachable: false, error: errorMessage(cause ?? err) };
  }
}

/**
 * The verdict on a cluster that should have `clusterSize` servers. Throws `NotReadyError` when
 * JetStream has no meta leader (quorum lost, or still electing right after a deploy): the runner
 * retries until the deadline and then fails with this reason.
 */
export function judgeCluster(snapshots: readonly NodeSnapshot[], clusterSize: number): StepOutcome {
  const reachable = snapshots.flatMap((s) => (s.reachable ? [s] : []));
  const unreachable = snapshots.flatMap((s) => (s.reachable ? [] : [s]));
  const unreachableText = unreachable.map((s) => `${redact(s.url)} (${s.error})`).join(", ");
  if (reachable.length === 0) {
    return { verdict: "degraded", detail: `no monitoring endpoint answered: ${unreachableText}` };
  }
  const noJetStream = reachable.filter((s) => !s.jetstreamEnabled).map((s) => s.serverName);
  if (noJetStream.length > 0) return { verdict: "fail", detail: `JetStream is not enabled on ${noJetStream.join(", ")}` };

  // A server is alive when its own monitor answers or a reachable server holds a route to it.
  const alive = new Set<string>(reachable.flatMap((s) => [s.serverName, ...s.routedPeers]));
  const leaders = new Set(reachable.map((s) => s.meta?.leader).filter((l): l is string => l !== undefined));
  const leaderView = reachable.find((s) => s.meta?.leader !== undefined && s.meta.leader === s.serverName);
  const knownPeers = leaderView?.meta?.replicas ?? [];
  const members = new Set([...reachable.flatMap((s) => s.metaPeers), ...knownPeers.map((p) => p.name)]);
  const missingNames = [...members].filter((name) => !alive.has(name) || knownPeers.some((p) => p.name === name && p.offline === true)).sort();
  const missingText = (): string => {
    const missing = clusterSize - alive.size;
    const who = missingNames.length > 0 ? `: ${missingNames.join(", ")} down` : unreachable.length > 0 ? `; not reachable: ${unreachableText}` : "";
    return `${alive.size}/${clusterSize} servers alive (${Math.max(missing, missingNames.length)} missing)${who}`;
  };

  if (clusterSize > 1) {
    const quorum = Math.floor(clusterSize / 2) + 1;
    // A leader cut off from its peers still names itself until its election timeout: count first.
    if (alive.size < quorum) throw new NotReadyError(`JetStream quorum lost (needs ${quorum} of ${clusterSize} servers): ${missingText()}`);
    if (leaders.size === 0) {
      throw new NotReadyError(`JetStream has no meta leader (quorum needs ${Math.floor(clusterSize / 2) + 1} of ${clusterSize} servers): ${missingText()}`);
    }
    if (leaders.size > 1) throw new NotReadyError(`servers disagree on the JetStream meta leader (${[...leaders].join(", ")}): an election is in progress`);
  }
  const leader = [...leaders][0];
  const facts = [`${alive.size}/${clusterSize} servers`, ...(leader ? [`meta leader ${leader}`] : [])];
  if (alive.size < clusterSize || missingNames.length > 0) {
    return { verdict: "degraded", detail: `${missingText()}; ${facts.slice(1).join(", ") || "no JetStream cluster"}` };
  }
  const partitioned = reachable.filter((s) => s.routedPeers.length < alive.size - 1).map((s) => `${s.serverName} routes to ${s.routedPeers.length}/${alive.size - 1} peers`);
  if (partitioned.length > 0) return { verdict: "degraded", detail: `incomplete routes: ${partitioned.join(", ")}` };
  const lagging = knownPeers.filter((p) => !p.current).map((p) => `${p.name}${p.lag ? ` (lag ${p.lag})` : ""}`);
  if (lagging.length > 0) return { verdict: "degraded", detail: `${LAGGING_PEERS} ${lagging.join(", ")}; ${facts.join(", ")}` };
  const note = unreachable.length > 0 ? `; monitor not reachable: ${unreachableText}` : "";
  // Every server is routed and current: a monitor port that does not answer is worth a note, not a verdict.
  return { verdict: "pass", detail: `${facts.join(", ")}, all routed and current${note}` };
}
