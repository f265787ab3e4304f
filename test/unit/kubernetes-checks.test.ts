/**
 * The cross-object checks and the stored-vs-sent comparison the API-server suite runs: a sound stage
 * passes them all, and each kind of broken stage is caught with the object named.
 */
import { describe, expect, it } from "vitest";
import { STAGE_CHECKS } from "../harness/kubernetes-checks.js";
import type { Manifest } from "../harness/kubernetes-manifests.js";
import { storedDifferences } from "../harness/kubernetes-stored.js";

const NS = "bp-test";
const POD_LABELS = { "app.kubernetes.io/name": "rabbitmq", "app.kubernetes.io/instance": "rabbitmq" };
const meta = (name: string) => ({ name, namespace: NS });

/** A sound stage, shaped like what statefulTier + initTask plan; a fresh copy per call. */
function stage(): Manifest[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("rabbitmq-config"), data: { "rabbitmq.conf": "x" } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("rabbitmq-secret"), data: { cookie: "eA==", password: "eA==" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("rabbitmq") },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta("rabbitmq-peer-discovery"), rules: [{ apiGroups: [""], resources: ["endpoints"], verbs: ["get"] }] },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta("rabbitmq-peer-discovery"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "rabbitmq-peer-discovery" },
      subjects: [{ kind: "ServiceAccount", name: "rabbitmq", namespace: NS }],
    },
    { apiVersion: "v1", kind: "Service", metadata: meta("rabbitmq-headless"), spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: { ...POD_LABELS }, ports: [{ name: "amqp", port: 5672, targetPort: "amqp" }] } },
    { apiVersion: "v1", kind: "Service", metadata: meta("rabbitmq"), spec: { clusterIP: "10.96.0.10", selector: { ...POD_LABELS }, ports: [{ name: "amqp", port: 5672, targetPort: "amqp" }] } },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("rabbitmq"),
      spec: {
        serviceName: "rabbitmq-headless",
        selector: { matchLabels: { ...POD_LABELS } },
        template: {
          metadata: { labels: { ...POD_LABELS, "app.kubernetes.io/version": "4" } },
          spec: {
            serviceAccountName: "rabbitmq",
            containers: [
              {
                name: "rabbitmq",
                ports: [{ name: "amqp", containerPort: 5672 }],
                volumeMounts: [{ name: "data" }, { name: "config" }, { name: "secret" }],
                env: [{ name: "COOKIE", valueFrom: { secretKeyRef: { name: "rabbitmq-secret", key: "cookie" } } }],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "rabbitmq-config" } },
              { name: "secret", secret: { secretName: "rabbitmq-secret", items: [{ key: "password", path: "password" }] } },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    },
    { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta("rabbitmq"), spec: { maxUnavailable: 1, selector: { matchLabels: { ...POD_LABELS } } } },
    { apiVersion: "batch/v1", kind: "Job", metadata: meta("rabbitmq-channels"), spec: { template: { metadata: { labels: { job: "x" } }, spec: { containers: [{ name: "init" }], volumes: [{ name: "files", secret: { secretName: "rabbitmq-secret" } }] } } } },
  ];
}

// Fixtures are broken on purpose, field by field: typing every shape would only hide the intent.
type Obj = Record<string, any>;
const get = (objects: Manifest[], kind: string, name: string): Obj => objects.find((o) => o.kind === kind && o.metadata.name === name) as Obj;
const sts = (o: Manifest[]) => get(o, "StatefulSet", "rabbitmq");
const podSpec = (o: Manifest[]) => sts(o).spec.template.spec;

const allProblems = (objects: Manifest[]) => Object.values(STAGE_CHECKS).flatMap((check) => check(objects));

it("a sound stage passes every check", () => {
  expect(allProblems(stage())).toEqual([]);
});

it("a Service may select one StatefulSet pod by the label its controller adds (the primary)", () => {
  const objects = stage();
  sts(objects).spec.replicas = 3;
  get(objects, "Service", "rabbitmq").spec.selector = { ...POD_LABELS, "statefulset.kubernetes.io/pod-name": "rabbitmq-2" };
  expect(allProblems(objects)).toEqual([]);
});

describe.each<[string, (o: Manifest[]) => void, string]>([
  ["serviceName names no Service", (o) => (sts(o).spec.serviceName = "rabbitmq-nodes"), "StatefulSet bp-test/rabbitmq: spec.serviceName `rabbitmq-nodes` is no Service"],
  ["serviceName names a Service with a ClusterIP", (o) => (sts(o).spec.serviceName = "rabbitmq"), "is not headless (clusterIP 10.96.0.10)"],
  ["the headless Service hides not-ready peers", (o) => (get(o, "Service", "rabbitmq-headless").spec.publishNotReadyAddresses = false), "does not publish not-ready addresses"],
  ["the headless Service selects other pods", (o) => (get(o, "Service", "rabbitmq-headless").spec.selector = { "app.kubernetes.io/name": "redis" }), "its Service rabbitmq-headless does not select its pods"],
  ["a claim template without storage", (o) => delete sts(o).spec.volumeClaimTemplates[0].spec.resources, "volumeClaimTemplate data requests no storage"],
  ["a claim template nobody mounts", (o) => (podSpec(o).containers[0].volumeMounts = [{ name: "config" }]), "volumeClaimTemplate data is mounted by no container"],
  ["no claim templates", (o) => delete sts(o).spec.volumeClaimTemplates, "no volumeClaimTemplates"],
  ["no PDB", (o) => o.splice(o.findIndex((x) => x.kind === "PodDisruptionBudget"), 1), "covered by 0 PodDisruptionBudgets"],
  ["two PDBs over the same pods", (o) => o.push({ ...get(o, "PodDisruptionBudget", "rabbitmq"), metadata: meta("rabbitmq-2") } as Manifest), "covered by 2 PodDisruptionBudgets (rabbitmq, rabbitmq-2)"],
  ["a PDB selecting nothing", (o) => (get(o, "PodDisruptionBudget", "rabbitmq").spec.selector.matchLabels = { "app.kubernetes.io/name": "nats" }), "PodDisruptionBudget bp-test/rabbitmq: selects the pods of no StatefulSet"],
  ["a client Service selecting nothing", (o) => (get(o, "Service", "rabbitmq").spec.selector = { app: "rabbit" }), "Service bp-test/rabbitmq: its selector {\"app\":\"rabbit\"} matches no workload's pods"],
  ["a Service selecting a pod ordinal beyond replicas", (o) => (get(o, "Service", "rabbitmq").spec.selector = { ...POD_LABELS, "statefulset.kubernetes.io/pod-name": "rabbitmq-3" }), "Service bp-test/rabbitmq: its selector"],
  ["a Service targeting an undeclared port", (o) => (get(o, "Service", "rabbitmq").spec.ports[0].targetPort = "amqps"), "Service bp-test/rabbitmq: port amqp targets amqps, which its pods do not declare"],
  ["a volume of a missing ConfigMap", (o) => (podSpec(o).volumes[0].configMap.name = "rabbitmq-conf"), "volume config uses ConfigMap `rabbitmq-conf`, which the stage does not create"],
  ["a volume item of a missing key", (o) => (podSpec(o).volumes[1].secret.items[0].key = "erlang-cookie"), "uses key `erlang-cookie` of Secret rabbitmq-secret"],
  ["an env var from a missing Secret key", (o) => (podSpec(o).containers[0].env[0].valueFrom.secretKeyRef.key = "erlangCookie"), "container rabbitmq's env uses key `erlangCookie`"],
  ["a Job mounting a missing Secret", (o) => (get(o, "Job", "rabbitmq-channels").spec.template.spec.volumes[0].secret.secretName = "channels-files"), "Job bp-test/rabbitmq-channels: volume files uses Secret `channels-files`"],
  ["a missing ServiceAccount", (o) => o.splice(o.findIndex((x) => x.kind === "ServiceAccount"), 1), "serviceAccountName `rabbitmq` is no ServiceAccount"],
  ["a RoleBinding to a missing Role", (o) => (get(o, "RoleBinding", "rabbitmq-peer-discovery").roleRef.name = "peer-discovery"), "roleRef Role `peer-discovery` does not exist"],
  ["a RoleBinding without subjects", (o) => (get(o, "RoleBinding", "rabbitmq-peer-discovery").subjects = []), "binds no subject"],
])("a stage with %s", (_case, breakIt, expected) => {
  it("is caught, naming the object", () => {
    const objects = stage();
    breakIt(objects);
    expect(allProblems(objects).join("\n")).toContain(expected);
  });
});

describe("storedDifferences", () => {
  const secret: Manifest = { apiVersion: "v1", kind: "Secret", metadata: meta("s"), stringData: { password: "[secret]" } };
  const service: Manifest = { apiVersion: "v1", kind: "Service", metadata: meta("svc"), spec: { ports: [{ name: "a", port: 1 }], publishNotReadyAddresses: true } };

  it("accepts server additions and a Secret's stringData stored base64 under data", () => {
    expect(storedDifferences(secret, { ...secret, stringData: undefined, data: { password: Buffer.from("[secret]").toString("base64") }, type: "Opaque" })).toEqual([]);
    expect(storedDifferences(service, { ...service, metadata: { ...meta("svc"), uid: "u" }, spec: { ports: [{ name: "a", port: 1, protocol: "TCP" }], publishNotReadyAddresses: true, clusterIP: "None" } })).toEqual([]);
  });

  it.each<[string, Manifest | undefined, string]>([
    ["a dropped field", { ...service, spec: { ports: [{ name: "a", port: 1 }] } }, "Service bp-test/svc: spec.publishNotReadyAddresses: sent true, stored undefined"],
    ["a rewritten value", { ...service, spec: { ports: [{ name: "a", port: 2 }], publishNotReadyAddresses: true } }, "Service bp-test/svc: spec.ports[0].port: sent 1, stored 2"],
    ["a lost list item", { ...service, spec: { ports: [], publishNotReadyAddresses: true } }, "Service bp-test/svc: spec.ports: sent 1 items, stored 0"],
    ["no object at all", undefined, "Service bp-test/svc: not stored"],
  ])("reports %s", (_case, stored, expected) => {
    expect(storedDifferences(service, stored)).toContain(expected);
  });

  it("reports a Secret value that was not stored as sent", () => {
    expect(storedDifferences(secret, { ...secret, stringData: undefined, data: { password: "eA==" } })).toEqual([`Secret bp-test/s: data.password: sent "${Buffer.from("[secret]").toString("base64")}", stored "eA=="`]);
  });
});
