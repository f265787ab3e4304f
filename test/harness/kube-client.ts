/**
 * A minimal Kubernetes REST client for the API-server suite: bearer token, the server's own CA pinned,
 * discovery of resource paths, server-side apply (optionally dry run, strict field validation), get.
 * Plain `node:https`; it only ever talks to the URL it is given (127.0.0.1 in the tests).
 */
import { Agent, request as httpsRequest } from "node:https";
import { objectRef, type Manifest } from "./kubernetes-manifests.js";

/** The field manager our applies use, as Pulumi's server-side apply would use its own. */
export const FIELD_MANAGER = "botplatform-brokers-test";
const REQUEST_TIMEOUT_MS = 30 * 1000; // 30 s: a loaded 2-core box, never a hang

export interface KubeResponse {
  status: number;
  body: unknown;
  /** `Warning` headers: deprecated fields or APIs, odd values the server accepts anyway. */
  warnings: string[];
}

/** `299 - "spec.foo: deprecated"` -> `spec.foo: deprecated`. */
function warningsOf(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((v) => v.split(/,(?=\s*\d{3} )/)).map((v) => v.trim().replace(/^\d{3} \S+ "(.*)"$/, "$1"));
}

/** The `Status` the API server returns on failure, reduced to what a person needs. */
export interface KubeStatus {
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly resources = new Map<string, ApiResource[]>();

  constructor(
    readonly url: string,
    private readonly token: string,
    ca: Buffer,
  ) {
    this.agent = new Agent({ ca, keepAlive: true });
  }

  request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest(
        new URL(path, this.url),
        {
          method,
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: { authorization: `Bearer ${this.token}`, accept: "application/json", ...(payload === undefined ? {} : { "content-type": contentType }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain text (e.g. /readyz answers `ok`)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, warnings: warningsOf(res.headers.warning) });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Discovery: the REST resource (plural name, scope) that serves `apiVersion` `kind`. */
  async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    let list = this.resources.get(apiVersion);
    if (!list) {
      const response = await this.request("GET", apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
      if (response.status !== 200) throw new Error(`discovery of ${apiVersion}: HTTP ${response.status}`);
      list = (response.body as { resources: ApiResource[] }).resources.filter((r) => !r.name.includes("/"));
      this.resources.set(apiVersion, list);
    }
    const found = list.find((r) => r.kind === kind);
    if (!found) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
    return found;
  }

  /** `/apis/apps/v1/namespaces/ns/statefulsets[/name]`. */
  async path(object: Pick<Manifest, "apiVersion" | "kind" | "metadata">, withName = true): Promise<string> {
    const resource = await this.resource(object.apiVersion, object.kind);
    const root = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(object.metadata.namespace ?? "default")}` : "";
    return `${root}${scope}/${resource.name}${withName ? `/${encodeURIComponent(object.metadata.name ?? "")}` : ""}`;
  }

  /** Server-side apply, as `pulumi up` does with the Kubernetes provider's default (SSA). */
  async apply(object: Manifest, options: { dryRun: boolean }): Promise<KubeResponse> {
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, fieldValidation: "Strict", force: "true" });
    if (options.dryRun) query.set("dryRun", "All");
    return this.request("PATCH", `${await this.path(object)}?${query}`, object, "application/apply-patch+yaml");
  }

  /** POST a new object (e.g. a Pod built from a pod template), optionally as a dry run. */
  async create(object: Manifest, options: { dryRun: boolean }): Promise<KubeResponse> {
    const query = new URLSearchParams({ fieldValidation: "Strict" });
    if (options.dryRun) query.set("dryRun", "All");
    return this.request("POST", `${await this.path(object, false)}?${query}`, object);
  }

  async get(object: Pick<Manifest, "apiVersion" | "kind" | "metadata">): Promise<Manifest | undefined> {
    const response = await this.request("GET", await this.path(object));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`GET ${objectRef(object)}: ${describeFailure(response)}`);
    return response.body as Manifest;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `HTTP 422 Invalid: <message> [field: why, ...]`. */
export function describeFailure(response: KubeResponse): string {
  const status = (typeof response.body === "object" && response.body !== null ? response.body : { message: String(response.body) }) as KubeStatus;
  const causes = (status.details?.causes ?? []).map((c) => `${c.field ?? "?"}: ${c.message ?? c.reason ?? ""}`);
  return `HTTP ${response.status} ${status.reason ?? ""}: ${status.message ?? ""}${causes.length > 0 ? ` [${causes.join("; ")}]` : ""}`;
}
