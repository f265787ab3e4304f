/**
 * The Kafka node's health check as data. A broker opens its listeners only after it has joined the
 * quorum and caught up with the metadata log, so an accepted TCP connection on CLIENT (CONTROLLER
 * for a dedicated controller) means "started and serving". A JVM tool such as
 * `kafka-broker-api-versions.sh` would say little more and cost seconds of CPU every period.
 */
import type { HealthCheck } from "../targets/health.js";
import { KAFKA_PORTS, type KafkaPool } from "./model.js";

export function kafkaHealthCheck(pool: Pick<KafkaPool, "healthListener">, target: "docker" | "kubernetes"): HealthCheck {
  const port = KAFKA_PORTS[pool.healthListener];
  // Kubernetes dials the port itself; in a container, bash's /dev/tcp needs no extra tool (the
  // image's Kafka scripts already require bash, and it has no `nc`).
  return target === "kubernetes" ? { kind: "tcp", port } : { kind: "exec", command: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`] };
}
