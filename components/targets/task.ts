/**
 * A one-shot init task: work that must run after a tier is up and that no broker config file can
 * declare (create Redis consumer groups, JetStream streams, Kafka topics). On Docker it is a container
 * the provider attaches to until it exits; on Kubernetes a batch Job, which Pulumi awaits until it
 * completes (a failed Job fails the update). The command must be idempotent: it re-runs whenever its
 * inputs change, and a re-deploy with the same inputs changes nothing.
 */
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TierName } from "../stage.js";
import { dockerLabels, type DockerTarget } from "./docker.js";
import { kubernetesLabels, type KubernetesTarget } from "./kubernetes.js";

export interface InitTaskArgs {
  target: DockerTarget | KubernetesTarget;
  tier: TierName;
  /** e.g. `redis-channels`: the container / Job name suffix. */
  role: string;
  image: string;
  /** Full argv; files are readable under `INIT_TASK_FILES_DIR`. */
  command: string[];
  /** Files for the command, by file name; may hold secrets (they go in a Secret / secret upload). */
  files?: Record<string, pulumi.Input<string>>;
  /** The image's non-root uid on Kubernetes. */
  runAsUser: number;
  /** The tier's resources that must be up (healthy containers, StatefulSets) before the task runs. */
  dependsOn: pulumi.Resource[];
}

/** Where the task's files are mounted or uploaded. */
export const INIT_TASK_FILES_DIR = "/botplatform-task";

/** Job retries before the update fails: brokers that just turned ready may still refuse a moment. */
const JOB_BACKOFF_LIMIT = 6;

export function initTask(args: InitTaskArgs, parent: pulumi.Resource): pulumi.Resource {
  return args.target.kind === "docker" ? dockerTask(args, args.target, parent) : kubernetesTask(args, args.target, parent);
}

function dockerTask(args: InitTaskArgs, target: DockerTarget, parent: pulumi.Resource): docker.Container {
  const name = `${target.prefix}-${args.role}`;
  return new docker.Container(
    name,
    {
      name,
      image: args.image,
      // Exactly the argv, as on Kubernetes: the image's entrypoint script plays no part.
      entrypoints: args.command.slice(0, 1),
      command: args.command.slice(1),
      user: String(args.runAsUser),
      networksAdvanced: [{ name: target.networkName }],
      uploads: Object.entries(args.files ?? {}).map(([file, content]) => ({ file: `${INIT_TASK_FILES_DIR}/${file}`, content })),
      labels: dockerLabels(target.stage.name, args.tier),
      // Attach: the provider waits for the command to finish instead of leaving it running.
      attach: true,
      logs: true,
      mustRun: false,
      restart: "no",
    },
    { parent, dependsOn: [target.network, ...args.dependsOn] },
  );
}

function kubernetesTask(args: InitTaskArgs, target: KubernetesTarget, parent: pulumi.Resource): k8s.batch.v1.Job {
  const prefix = `bp-${target.stage.name}-${args.role}`;
  const labels = { ...kubernetesLabels(target, args.tier, args.role, "init"), "app.kubernetes.io/component": "init" };
  const files = args.files ?? {};
  const secret =
    Object.keys(files).length > 0
      ? new k8s.core.v1.Secret(
          `${prefix}-files`,
          { metadata: { name: `${args.role}-files`, namespace: target.namespace, labels }, type: "Opaque", stringData: files },
          { parent, dependsOn: [target.namespaceResource] },
        )
      : undefined;
  return new k8s.batch.v1.Job(
    `${prefix}-job`,
    {
      metadata: { name: args.role, namespace: target.namespace, labels },
      spec: {
        backoffLimit: JOB_BACKOFF_LIMIT,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            securityContext: { runAsNonRoot: true, runAsUser: args.runAsUser, runAsGroup: args.runAsUser, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "init",
                image: args.image,
                command: args.command,
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                volumeMounts: secret ? [{ name: "files", mountPath: INIT_TASK_FILES_DIR, readOnly: true }] : [],
              },
            ],
            volumes: secret ? [{ name: "files", secret: { secretName: secret.metadata.name, defaultMode: 0o444 } }] : [],
          },
        },
      },
    },
    // A Job's pod template is immutable: a changed command replaces the Job, which runs it again.
    { parent, dependsOn: [target.namespaceResource, ...(secret ? [secret] : []), ...args.dependsOn], replaceOnChanges: ["spec"], deleteBeforeReplace: true },
  );
}
