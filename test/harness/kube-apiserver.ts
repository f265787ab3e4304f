/**
 * A real Kubernetes API server for tests: etcd + kube-apiserver (built by scripts/install/kube-apiserver.sh)
 * on 127.0.0.1 ephemeral ports, data and certificates in temp dirs. No kubelet, scheduler or
 * controller-manager: the API server alone admits, defaults, validates and stores objects, which is
 * everything a manifest has to get past at `pulumi up`.
 *
 * Auth is a random static bearer token for a `system:masters` user; authorization stays RBAC, so
 * SubjectAccessReviews answer with the Roles the stage itself created.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { KubeClient } from "./kube-client.js";
import { LOCALHOST, freePorts } from "./ports.js";
import { makeTempDir, startProcess, withStartRetries, type ManagedProcess } from "./process.js";

const REPO_ROOT = resolve(__dirname, "..", "..");
const INSTALL_SCRIPT = join(REPO_ROOT, "scripts", "install", "kube-apiserver.sh");
const ETCD_READY_TIMEOUT_MS = 30 * 1000; // 30 s
const APISERVER_READY_TIMEOUT_MS = 120 * 1000; // 2 min: post-start hooks on a busy 2-core box
const READY_POLL_MS = 500;
/** ClusterIPs are only allocated from it (no traffic without kube-proxy); the usual default range. */
const SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";

/** The pinned version, read from the install script so the two never disagree. */
export function pinnedVersions(): { kubernetes: string; etcd: string } {
  const script = readFileSync(INSTALL_SCRIPT, "utf8");
  const pick = (name: string) => new RegExp(`^${name}="(v[0-9.]+)"`, "m").exec(script)?.[1];
  const kubernetes = pick("KUBE_VERSION");
  const etcd = pick("ETCD_VERSION");
  if (!kubernetes || !etcd) throw new Error(`${INSTALL_SCRIPT}: KUBE_VERSION / ETCD_VERSION not found`);
  return { kubernetes, etcd };
}

export interface KubeBinaries {
  kubeApiserver: string;
  etcd: string;
  version: string;
}

/** The built binaries, or why they are absent (the suite skips with that message). */
export function kubeBinaries(): KubeBinaries | { missing: string } {
  const { kubernetes } = pinnedVersions();
  const dir = process.env.BP_KUBE_BIN_DIR ?? join(REPO_ROOT, ".cache", "kube", kubernetes);
  const kubeApiserver = join(dir, "kube-apiserver");
  const etcd = join(dir, "etcd");
  const absent = [kubeApiserver, etcd].filter((f) => !existsSync(f));
  if (absent.length > 0) return { missing: `${absent.join(", ")} not built (run scripts/install/kube-apiserver.sh; it needs Go >= 1.26)` };
  return { kubeApiserver, etcd, version: kubernetes };
}

export interface KubeApiServer {
  readonly url: string;
  readonly client: KubeClient;
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

async function startEtcd(bin: string, dir: string): Promise<{ proc: ManagedProcess; url: string }> {
  const [client, peer] = await freePorts(2);
  const url = `http://${LOCALHOST}:${client}`;
  const peerUrl = `http://${LOCALHOST}:${peer}`;
  const proc = await startProcess({
    name: "etcd",
    command: bin,
    dir,
    args: [
      "--name=bp",
      `--data-dir=${join(dir, "data")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=bp=${peerUrl}`,
      // Throw-away data: no fsync keeps a loaded CI box from stalling the API server.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    ready: () => httpOk(`${url}/health`),
    readyTimeoutMs: ETCD_READY_TIMEOUT_MS,
    pollIntervalMs: READY_POLL_MS,
  });
  return { proc, url };
}

async function startApiServer(bin: string, dir: string, etcdUrl: string, token: string): Promise<{ proc: ManagedProcess; client: KubeClient; url: string }> {
  const [port] = await freePorts(1);
  const url = `https://${LOCALHOST}:${port}`;
  const certDir = join(dir, "certs");
  mkdirSync(certDir, { recursive: true });
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const saKey = join(dir, "sa.key");
  writeFileSync(saKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const tokens = join(dir, "tokens.csv");
  writeFileSync(tokens, `${token},bp-admin,bp-admin,"system:masters"\n`, { mode: 0o600 });
  let client: KubeClient | undefined;
  const proc = await startProcess({
    name: "kube-apiserver",
    command: bin,
    dir,
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${LOCALHOST}`,
      `--advertise-address=${LOCALHOST}`,
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${tokens}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // The `kubernetes` Service's endpoint would be 127.0.0.1, which Endpoints validation refuses.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      "--v=1",
    ],
    ready: async () => {
      // The serving certificate is self-signed at start-up: trust exactly that one.
      const cert = join(certDir, "apiserver.crt");
      if (!existsSync(cert)) return false;
      client ??= new KubeClient(url, token, readFileSync(cert));
      return (await client.request("GET", "/readyz")).status === 200;
    },
    readyTimeoutMs: APISERVER_READY_TIMEOUT_MS,
    pollIntervalMs: READY_POLL_MS,
  });
  return { proc, client: client!, url };
}

/** etcd + kube-apiserver on 127.0.0.1; `stop()` kills both and removes their temp dirs. */
export async function startKubeApiServer(bins: KubeBinaries): Promise<KubeApiServer> {
  const etcd = await withStartRetries(() => startEtcd(bins.etcd, makeTempDir("etcd")));
  try {
    const token = randomBytes(24).toString("hex");
    const api = await withStartRetries(() => startApiServer(bins.kubeApiserver, makeTempDir("kube-apiserver"), etcd.url, token));
    return {
      url: api.url,
      client: api.client,
      processes: [etcd.proc, api.proc],
      stop: async () => {
        await api.proc.stop();
        await etcd.proc.stop();
      },
    };
  } catch (error) {
    await etcd.proc.stop();
    throw error;
  }
}
