/**
 * The in-cluster smoke check of a Kubernetes stage. The brokers are reachable only inside the cluster,
 * so the smoke CLI runs as a Job after every tier is ready; Pulumi awaits a Job until it completes, so
 * a failed smoke fails the update. The pod template carries a fingerprint of the stage and the kit
 * version: any tier change replaces the Job, which runs the smoke again ("after each deploy").
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { Stage } from "./stage.js";
import type { KubernetesTarget } from "./targets/kubernetes.js";

/** The smoke image's non-root user (`node` in the official Node.js images). */
const SMOKE_UID = 1000;
const ENDPOINTS_DIR = "/etc/botplatform";
/** Room beyond the probes' own deadline for pulling the image and starting the pod. */
const JOB_SLACK_SECONDS = 120;

export interface SmokeJobArgs {
  stage: Stage;
  target: KubernetesTarget;
  endpoints: pulumi.Output<object>;
  /** Every tier's readiness resources (StatefulSets, init Jobs). */
  dependsOn: pulumi.Resource[];
  image: string;
  kitVersion: string;
}

export function smokeJob(args: SmokeJobArgs, parent: pulumi.Resource): k8s.batch.v1.Job {
  const { stage, target } = args;
  const prefix = `bp-${stage.name}-smoke`;
  const labels = {
    "app.kubernetes.io/name": "botplatform-smoke",
    "app.kubernetes.io/instance": "smoke",
    "app.kubernetes.io/version": args.kitVersion,
    "app.kubernetes.io/component": "smoke",
    "app.kubernetes.io/part-of": "botplatform",
    "app.kubernetes.io/managed-by": "botplatform-brokers",
    "botplatform.io/stage": stage.name,
  };
  const secret = new k8s.core.v1.Secret(
    `${prefix}-endpoints`,
    {
      metadata: { name: "smoke-endpoints", namespace: target.namespace, labels },
      type: "Opaque",
      stringData: { "endpoints.json": pulumi.secret(args.endpoints.apply((e) => JSON.stringify(e))) },
    },
    { parent, dependsOn: [target.namespaceResource] },
  );
  const fingerprint = createHash("sha256").update(JSON.stringify(stage)).update(args.kitVersion).digest("hex").slice(0, 16);
  return new k8s.batch.v1.Job(
    `${prefix}-job`,
    {
      metadata: { name: "smoke", namespace: target.namespace, labels },
      spec: {
        // The CLI retries until its own deadline; a second pod would only repeat a verdict.
        backoffLimit: 0,
        activeDeadlineSeconds: stage.smoke.deadlineSeconds + JOB_SLACK_SECONDS,
        template: {
          metadata: { labels, annotations: { "botplatform.io/deploy-fingerprint": fingerprint } },
          spec: {
            restartPolicy: "Never",
            imagePullSecrets: stage.smoke.imagePullSecret ? [{ name: stage.smoke.imagePullSecret }] : undefined,
            securityContext: { runAsNonRoot: true, runAsUser: SMOKE_UID, runAsGroup: SMOKE_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "smoke",
                image: args.image,
                args: [
                  "--endpoints", `${ENDPOINTS_DIR}/endpoints.json`,
                  "--deadline", String(stage.smoke.deadlineSeconds),
                  ...(stage.smoke.strict ? ["--strict"] : []),
                ],
                env: [{ name: "CI", value: "true" }],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                volumeMounts: [{ name: "endpoints", mountPath: ENDPOINTS_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: "endpoints", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } }],
          },
        },
      },
    },
    // A Job is immutable: a new fingerprint replaces it, and the replacement runs the smoke again.
    { parent, dependsOn: [secret, ...args.dependsOn], replaceOnChanges: ["spec"], deleteBeforeReplace: true },
  );
}
