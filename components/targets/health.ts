/**
 * Health checks as data: one definition renders as a Docker HEALTHCHECK or a Kubernetes probe, so the
 * same check guards a container and a pod.
 */
import type * as k8s from "@pulumi/kubernetes";

export type HealthCheck =
  | { kind: "exec"; command: string[] }
  | { kind: "http"; path: string; port: number }
  | { kind: "tcp"; port: number };

export interface HealthTiming {
  /** @default 10 */
  periodSeconds?: number;
  /** @default 5 */
  timeoutSeconds?: number;
  /** @default 6 */
  failureThreshold?: number;
}

/** Docker has no HTTP check of its own: `http` checks run the image's `wget`. */
export function dockerHealthcheck(check: HealthCheck, timing: HealthTiming & { startPeriodSeconds?: number } = {}) {
  const tests =
    check.kind === "exec"
      ? ["CMD", ...check.command]
      : check.kind === "http"
        ? ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${check.port}${check.path}`]
        : ["CMD-SHELL", `nc -z 127.0.0.1 ${check.port}`];
  return {
    tests,
    interval: `${timing.periodSeconds ?? 5}s`,
    timeout: `${timing.timeoutSeconds ?? 5}s`,
    retries: timing.failureThreshold ?? 12,
    startPeriod: `${timing.startPeriodSeconds ?? 10}s`,
  };
}

export function kubernetesProbe(check: HealthCheck, timing: HealthTiming = {}): k8s.types.input.core.v1.Probe {
  const handler =
    check.kind === "exec"
      ? { exec: { command: check.command } }
      : check.kind === "http"
        ? { httpGet: { path: check.path, port: check.port } }
        : { tcpSocket: { port: check.port } };
  return {
    ...handler,
    periodSeconds: timing.periodSeconds ?? 10,
    timeoutSeconds: timing.timeoutSeconds ?? 5,
    failureThreshold: timing.failureThreshold ?? 6,
  };
}
