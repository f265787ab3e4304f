/**
 * PURE: reads Redis `INFO` text and judges replication against what the endpoints expect.
 */
import type { Verdict } from "./probe.js";

export interface RedisInfo {
  version: string;
  /** `master` or `slave`, as INFO says. */
  role: string;
  /** `ip:port` of replicas the primary lists with `state=online`. */
  onlineReplicas: string[];
  /** `ip:port (state)` of replicas connected but not online yet (e.g. `wait_bgsave`). */
  syncingReplicas: string[];
}

/** `INFO` text -> the fields the probe judges. Unknown or missing fields read as `unknown`. */
export function parseInfo(text: string): RedisInfo {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  const onlineReplicas: string[] = [];
  const syncingReplicas: string[] = [];
  for (const [key, value] of fields) {
    if (!/^slave\d+$/.test(key)) continue;
    // slave0:ip=127.0.0.1,port=6381,state=online,offset=42,lag=0
    const attrs = new Map(value.split(",").map((kv) => kv.split("=", 2) as [string, string]));
    const address = `${attrs.get("ip") ?? "?"}:${attrs.get("port") ?? "?"}`;
    const state = attrs.get("state") ?? "unknown";
    if (state === "online") onlineReplicas.push(address);
    else syncingReplicas.push(`${address} (${state})`);
  }
  return {
    version: fields.get("redis_version") ?? "unknown",
    role: fields.get("role") ?? "unknown",
    onlineReplicas,
    syncingReplicas,
  };
}

/** The `info` step's verdict: a replica instead of the primary fails; missing replicas degrade. */
export function judgeReplication(info: RedisInfo, expectedReplicas: number): { verdict: Verdict; detail: string } {
  const head = `redis ${info.version}, role ${info.role}`;
  if (info.role !== "master") {
    return { verdict: "fail", detail: `${head}: the endpoint is not the primary (writes would fail)` };
  }
  const online = info.onlineReplicas.length;
  const up = online === 0 ? "none online" : `online: ${info.onlineReplicas.join(", ")}`;
  const syncing = info.syncingReplicas.length === 0 ? "" : `; not yet in sync: ${info.syncingReplicas.join(", ")}`;
  if (online < expectedReplicas) {
    const missing = expectedReplicas - online;
    return {
      verdict: "degraded",
      detail: `${head}: ${missing} of ${expectedReplicas} expected replica${expectedReplicas === 1 ? "" : "s"} missing (${up}${syncing})`,
    };
  }
  return { verdict: "pass", detail: `${head}, ${online}/${expectedReplicas} replicas online${online === 0 ? "" : ` (${info.onlineReplicas.join(", ")})`}` };
}
