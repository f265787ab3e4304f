/**
 * Did the API server store what we meant? Every field we sent must come back with the same value:
 * a field the server drops (a typo that slipped past validation, a field of the wrong object) or
 * rewrites is a difference. Server additions (defaults, status, managedFields) are fine.
 */
import { objectRef, type Manifest } from "./kubernetes-manifests.js";

/** A Secret's `stringData` is write-only: the server stores it base64-encoded under `data`. */
function asStored(sent: Manifest): Manifest {
  if (sent.kind !== "Secret" || typeof sent.stringData !== "object" || sent.stringData === null) return sent;
  const { stringData, ...rest } = sent;
  const encoded = Object.fromEntries(Object.entries(stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  return { ...rest, data: { ...(rest.data as Record<string, string> | undefined), ...encoded } } as Manifest;
}

function walk(sent: unknown, stored: unknown, path: string, out: string[]): void {
  if (sent === undefined || sent === null) return;
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored)) return void out.push(`${path}: sent a list, stored ${JSON.stringify(stored)}`);
    if (stored.length !== sent.length) out.push(`${path}: sent ${sent.length} items, stored ${stored.length}`);
    sent.forEach((item, i) => walk(item, stored[i], `${path}[${i}]`, out));
    return;
  }
  if (typeof sent === "object") {
    if (typeof stored !== "object" || stored === null) return void out.push(`${path}: sent an object, stored ${JSON.stringify(stored)}`);
    for (const [key, value] of Object.entries(sent)) walk(value, (stored as Record<string, unknown>)[key], path === "" ? key : `${path}.${key}`, out);
    return;
  }
  if (sent !== stored) out.push(`${path}: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(stored)}`);
}

/** `<Kind ns/name>: <field>: sent X, stored Y` for every field that did not come back as sent. */
export function storedDifferences(sent: Manifest, stored: Manifest | undefined): string[] {
  if (!stored) return [`${objectRef(sent)}: not stored`];
  const out: string[] = [];
  walk(asStored(sent), stored, "", out);
  return out.map((d) => `${objectRef(sent)}: ${d}`);
}
