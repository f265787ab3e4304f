/**
 * PURE: a captured Docker plan (tools/plan.ts --format json --show-secrets) -> the Engine API calls
 * @pulumi/docker would make for it, as data: one step per resource with the resources it waits for.
 * Follows the provider's own translation (kreuzwerker/docker v3): memory in MiB, uploads as a tar at
 * `/` (mode `permissions`, else 0644 / 0744 when `executable`), networks by name with aliases, the
 * first network as the network mode. Anything it does not know (resource type, input field) is an
 * error naming it. Images go through `resolveImage`: the e2e test swaps in its local test images.
 */
import type { PlannedResource } from "../../tools/plan/capture.js";
import { containerInputs, networkInputs, parseInputs, randomPasswordInputs, remoteImageInputs, ReplayError, volumeInputs, type ContainerInputs } from "./inputs.js";

export const DOCKER_CONTAINER = "docker:index/container:Container";
export const DOCKER_NETWORK = "docker:index/network:Network";
export const DOCKER_VOLUME = "docker:index/volume:Volume";
export const DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
/** The kit's own component resources: logical grouping, nothing on the engine. */
const COMPONENT_TYPE = /^botplatform:[a-z]+:[A-Za-z]+$/;

/** The provider's defaults (kreuzwerker/docker v3). */
export const PROVIDER_DEFAULTS = { restart: "no", waitTimeoutSeconds: 60, uploadMode: 0o644, executableUploadMode: 0o744 } as const;

export interface UploadFile {
  path: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

export interface ContainerStep {
  kind: "container";
  /** The Pulumi resource name (what `dependsOn` refers to). */
  resource: string;
  name: string;
  image: string;
  /** `POST /containers/create` body. */
  create: Record<string, unknown>;
  /** Networks after the first, connected before start. */
  connect: { network: string; aliases: string[] }[];
  uploads: UploadFile[];
  start: boolean;
  /** Run to completion; the exit code must be 0. */
  attach: boolean;
  /** Healthy within `waitTimeoutSeconds` before dependents start. */
  wait: boolean;
  waitTimeoutSeconds: number;
  /** Must be running after start (not for `attach`). */
  mustRun: boolean;
  dependsOn: string[];
}

export type ReplayStep =
  | { kind: "network"; resource: string; name: string; create: Record<string, unknown>; dependsOn: string[] }
  | { kind: "volume"; resource: string; name: string; create: Record<string, unknown>; dependsOn: string[] }
  | { kind: "image"; resource: string; image: string; dependsOn: string[] }
  | { kind: "noop"; resource: string; dependsOn: string[] }
  | ContainerStep;

/** Maps an image of the plan to the image the engine runs; throws when it has none. */
export type ImageResolver = (image: string) => string;

export function translatePlan(plan: readonly PlannedResource[], resolveImage: ImageResolver): ReplayStep[] {
  const names = new Set(plan.map((r) => r.name));
  const steps = plan.map((resource) => translateResource(resource, resolveImage));
  for (const step of steps) {
    const unknown = step.dependsOn.filter((d) => !names.has(d));
    if (unknown.length > 0) throw new ReplayError(`${step.resource}: depends on ${unknown.join(", ")}, which the plan does not hold`);
  }
  checkReferences(steps);
  return steps;
}

function translateResource(resource: PlannedResource, resolveImage: ImageResolver): ReplayStep {
  const { type, name } = resource;
  const dependsOn = resource.dependsOn ?? [];
  switch (type) {
    case DOCKER_NETWORK: {
      const inputs = parseInputs(networkInputs, name, resource.inputs);
      return {
        kind: "network",
        resource: name,
        name: inputs.name,
        create: { Name: inputs.name, Driver: inputs.driver ?? "bridge", Labels: labelMap(inputs.labels), Internal: inputs.internal ?? false, Attachable: inputs.attachable ?? false, Options: inputs.options ?? {}, CheckDuplicate: true },
        dependsOn,
      };
    }
    case DOCKER_VOLUME: {
      const inputs = parseInputs(volumeInputs, name, resource.inputs);
      return { kind: "volume", resource: name, name: inputs.name, create: { Name: inputs.name, Driver: inputs.driver ?? "local", DriverOpts: inputs.driverOpts ?? {}, Labels: labelMap(inputs.labels) }, dependsOn };
    }
    case DOCKER_REMOTE_IMAGE:
      return { kind: "image", resource: name, image: resolveImage(parseInputs(remoteImageInputs, name, resource.inputs).name), dependsOn };
    case RANDOM_PASSWORD:
      parseInputs(randomPasswordInputs, name, resource.inputs);
      return { kind: "noop", resource: name, dependsOn };
    case DOCKER_CONTAINER:
      return translateContainer(name, parseInputs(containerInputs, name, resource.inputs), dependsOn, resolveImage);
    default:
      if (COMPONENT_TYPE.test(type)) {
        if (Object.keys(resource.inputs).length > 0) throw new ReplayError(`${name}: component ${type} has inputs (${Object.keys(resource.inputs).join(", ")}), which the replay does not understand`);
        return { kind: "noop", resource: name, dependsOn };
      }
      throw new ReplayError(`${name}: resource type ${type} is not supported by the replay (a Docker stage holds docker:* resources only)`);
  }
}

function translateContainer(resource: string, inputs: ContainerInputs, dependsOn: string[], resolveImage: ImageResolver): ContainerStep {
  const image = resolveImage(inputs.image);
  const [first, ...others] = inputs.networksAdvanced ?? [];
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of inputs.ports ?? []) {
    const key = `${port.internal}/${port.protocol ?? "tcp"}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.ip ?? "0.0.0.0", HostPort: port.external === undefined ? "" : String(port.external) });
  }
  const memorySwap = inputs.memorySwap === undefined ? undefined : inputs.memorySwap > 0 ? inputs.memorySwap * MIB : inputs.memorySwap;
  const create = dropUndefined({
    Image: image,
    Cmd: inputs.command,
    Entrypoint: inputs.entrypoints,
    Env: inputs.envs,
    Hostname: inputs.hostname,
    Domainname: inputs.domainname,
    User: inputs.user,
    WorkingDir: inputs.workingDir,
    Labels: labelMap(inputs.labels),
    ExposedPorts: Object.keys(exposed).length > 0 ? exposed : undefined,
    Healthcheck: inputs.healthcheck && {
      Test: inputs.healthcheck.tests,
      Interval: nanoseconds(inputs.healthcheck.interval),
      Timeout: nanoseconds(inputs.healthcheck.timeout),
      StartPeriod: nanoseconds(inputs.healthcheck.startPeriod),
      StartInterval: nanoseconds(inputs.healthcheck.startInterval),
      Retries: inputs.healthcheck.retries ?? 0,
    },
    StopSignal: inputs.stopSignal,
    StopTimeout: inputs.stopTimeout,
    HostConfig: dropUndefined({
      Binds: inputs.volumes?.map((v) => `${v.volumeName}:${v.containerPath}${v.readOnly === true ? ":ro" : ""}`),
      PortBindings: Object.keys(bindings).length > 0 ? bindings : undefined,
      RestartPolicy: { Name: inputs.restart ?? PROVIDER_DEFAULTS.restart, MaximumRetryCount: inputs.maxRetryCount ?? 0 },
      Memory: inputs.memory === undefined ? undefined : inputs.memory * MIB,
      MemorySwap: memorySwap,
      Init: inputs.init ?? false,
      AutoRemove: inputs.rm ?? false,
      NetworkMode: first?.name,
    }),
    NetworkingConfig: first ? { EndpointsConfig: { [first.name]: { Aliases: first.aliases ?? [] } } } : undefined,
  });
  const attach = inputs.attach ?? false;
  return {
    kind: "container",
    resource,
    name: inputs.name,
    image,
    create,
    connect: others.map((n) => ({ network: n.name, aliases: n.aliases ?? [] })),
    uploads: (inputs.uploads ?? []).map((u) => ({
      path: u.file,
      content: u.content !== undefined ? Buffer.from(u.content, "utf8") : Buffer.from(u.contentBase64 ?? "", "base64"),
      mode: u.permissions !== undefined ? parseInt(u.permissions, 8) : u.executable === true ? PROVIDER_DEFAULTS.executableUploadMode : PROVIDER_DEFAULTS.uploadMode,
      uid: Number(u.owner ?? 0),
      gid: Number(u.group ?? 0),
    })),
    start: inputs.start ?? true,
    attach,
    wait: inputs.wait ?? false,
    waitTimeoutSeconds: inputs.waitTimeout ?? PROVIDER_DEFAULTS.waitTimeoutSeconds,
    mustRun: inputs.mustRun ?? true,
    dependsOn,
  };
}

/**
 * A container that names a network or volume of the plan must depend on that resource: Pulumi runs
 * independent resources in parallel, so without the edge the container may be created first.
 */
function checkReferences(steps: readonly ReplayStep[]): void {
  const byEngineName = new Map<string, string>();
  for (const step of steps) if (step.kind === "network" || step.kind === "volume") byEngineName.set(`${step.kind}:${step.name}`, step.resource);
  const problems: string[] = [];
  for (const step of steps) {
    if (step.kind !== "container") continue;
    const networks = [(step.create.HostConfig as { NetworkMode?: string }).NetworkMode, ...step.connect.map((c) => c.network)].filter((n): n is string => n !== undefined);
    const volumes = ((step.create.HostConfig as { Binds?: string[] }).Binds ?? []).map((b) => b.split(":")[0]!);
    const refs = [...networks.map((n) => `network:${n}`), ...volumes.map((v) => `volume:${v}`)];
    for (const ref of refs) {
      const owner = byEngineName.get(ref);
      if (owner !== undefined && !step.dependsOn.includes(owner)) problems.push(`${step.resource} uses ${ref.replace(":", " ")} but does not depend on ${owner}`);
    }
  }
  if (problems.length > 0) throw new ReplayError(problems.join("; "));
}

const MIB = 1024 * 1024;
const UNIT_NS: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 };

/** A Go duration (`1m30s`) in nanoseconds, as the Engine API takes health check timings. */
export function nanoseconds(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  let total = 0;
  for (const match of duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(match[1]) * (UNIT_NS[match[2]!] ?? 0);
  return Math.round(total);
}

function labelMap(labels: readonly { label: string; value: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));
}

function dropUndefined<T extends Record<string, unknown>>(value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
