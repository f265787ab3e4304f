/**
 * Validates planned Kubernetes objects against the official Kubernetes OpenAPI schema, as compiled by
 * `kubernetes-models` (pinned in package.json; its schema is Kubernetes v1.36). That catches missing
 * required fields, wrong types, unknown enum values and bad formats; unknown fields are allowed by the
 * OpenAPI schema itself, so they are caught by the API-server suite (fieldValidation=Strict).
 * Every problem names the object (`StatefulSet botplatform-prod/redis`) and the field (`spec.selector`).
 */
import { objectRef, type Manifest, type PlannedManifest } from "./kubernetes-manifests.js";

/** The Kubernetes release whose OpenAPI schema `kubernetes-models@5.1.0` was generated from. */
export const SCHEMA_KUBERNETES_VERSION = "1.36";

export interface SchemaProblem {
  /** `Kind namespace/name`. */
  object: string;
  /** Dotted path with indices, e.g. `spec.template.spec.containers[0].ports[0].containerPort`; `` for the object. */
  field: string;
  message: string;
}

/** The part of an ajv error that kubernetes-models' `ValidationError.errors` carries. */
interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: { missingProperty?: string; allowedValues?: unknown[]; type?: string; format?: string };
}

type ModelClass = new (data: object) => { validate(): void };

/** `apps/v1` + `StatefulSet` -> `kubernetes-models/apps/v1/StatefulSet` (the package mirrors apiVersion). */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  try {
    const module = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
    return typeof module[kind] === "function" ? (module[kind] as ModelClass) : undefined;
  } catch {
    return undefined;
  }
}

/** `/spec/template/spec/containers/0/ports/0` -> `spec.template.spec.containers[0].ports[0]`. */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) parts.push(child);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === "" ? part : `${path}.${part}`), "");
}

function describe(error: SchemaError): { field: string; message: string } {
  if (error.keyword === "required" && error.params.missingProperty !== undefined) {
    return { field: fieldPath(error.instancePath, error.params.missingProperty), message: "is required" };
  }
  if (error.keyword === "enum" && error.params.allowedValues) {
    return { field: fieldPath(error.instancePath), message: `must be one of ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}` };
  }
  return { field: fieldPath(error.instancePath), message: error.message ?? error.keyword };
}

/** Every schema problem of one object; [] when it is valid. */
export async function validateManifest(object: Manifest): Promise<SchemaProblem[]> {
  const ref = objectRef(object);
  const problems: SchemaProblem[] = [];
  if (typeof object.metadata?.name !== "string" || object.metadata.name === "") {
    // Without a name Pulumi would auto-name the object with a random suffix: not deterministic.
    problems.push({ object: ref, field: "metadata.name", message: "is required (explicit, stable names only)" });
  }
  const Model = await modelClass(object.apiVersion, object.kind);
  if (!Model) return [...problems, { object: ref, field: "apiVersion", message: `\`${object.apiVersion}\` \`${object.kind}\` is not a kind of Kubernetes ${SCHEMA_KUBERNETES_VERSION}` }];
  try {
    new Model(object).validate();
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    problems.push(...errors.map((e) => ({ object: ref, ...describe(e) })));
  }
  return problems;
}

/**
 * Validates planned objects: the schema, and that the Pulumi type token agrees with the object's own
 * apiVersion and kind (`kubernetes:apps/v1:StatefulSet` is `apps/v1` `StatefulSet`).
 */
export async function validatePlanned(manifests: PlannedManifest[]): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  for (const { type, object } of manifests) {
    const [, version, kind] = type.split(":");
    const expected = version?.startsWith("core/") ? version.slice("core/".length) : version;
    if (object.apiVersion !== expected || object.kind !== kind) {
      problems.push({ object: objectRef(object), field: "apiVersion", message: `is \`${object.apiVersion}\` \`${object.kind}\` but the resource type is ${type}` });
    }
    problems.push(...(await validateManifest(object)));
  }
  return problems;
}

export function formatProblems(problems: SchemaProblem[]): string {
  return problems.map((p) => `${p.object}: ${p.field === "" ? "" : `${p.field}: `}${p.message}`).join("\n");
}
