/**
 * Renders each node's `nats.conf` and its secret include from the model. PURE: text out.
 *
 * Secrets never appear in nats.conf (it goes into a ConfigMap or a plain Docker upload). nats.conf
 * `include`s a per-node secret file that defines variables (`$BP_BUS_PASSWORD`, `$BP_ROUTE_PASSWORD`,
 * `$BP_ROUTES`) and nats.conf references them. The route URLs live there too: nats-server only sends
 * route credentials that are in the route URL itself. nats-server rejects a defined variable nobody
 * uses, so the secret file defines exactly what that node's nats.conf references.
 */
import { posix } from "node:path";
import type { HostPort } from "../targets/addressing.js";
import type { NatsModel, NatsNode, SubjectPermissions } from "./model.js";

export interface NatsSecrets {
  /** Password of the `bus` user. */
  busPassword: string;
  /** Password peers present on their routes. */
  routePassword: string;
}

const VAR_BUS_PASSWORD = "BP_BUS_PASSWORD";
const VAR_ROUTE_PASSWORD = "BP_ROUTE_PASSWORD";
const VAR_ROUTES = "BP_ROUTES";

/** A nats.conf double-quoted string: only `\\`, `\"`, `\t`, `\n`, `\r` and `\xXX` escapes exist. */
export function quote(value: string): string {
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f]/g, (ch) => {
    if (ch === "\\" || ch === '"') return `\\${ch}`;
    if (ch === "\t") return "\\t";
    if (ch === "\n") return "\\n";
    if (ch === "\r") return "\\r";
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  return `"${escaped}"`;
}

const hostPort = (address: HostPort): string => quote(`${address.host}:${address.port}`);
const list = (values: readonly string[]): string => `[${values.map(quote).join(", ")}]`;
const routeUrl = (route: HostPort, credentials = ""): string => `nats://${credentials}${route.host}:${route.port}`;

/** Whether nodes get a secret include at all: only when the stage has auth. */
export function hasSecretConf(model: NatsModel): boolean {
  return model.auth !== undefined;
}

function permissionsBlock(permissions: SubjectPermissions, indent: string): string[] {
  return [
    `${indent}permissions: {`,
    `${indent}  publish: {`,
    `${indent}    allow: ${list(permissions.publish.allow)}`,
    `${indent}    deny: ${list(permissions.publish.deny)}`,
    `${indent}  }`,
    `${indent}  subscribe: { allow: ${list(permissions.subscribe.allow)} }`,
    `${indent}}`,
  ];
}

function clusterBlock(model: NatsModel, node: NatsNode, cluster: HostPort): string[] {
  const lines = ["cluster {", `  name: ${quote(model.clusterName)}`, `  listen: ${hostPort(cluster)}`];
  if (model.noAdvertise) lines.push("  no_advertise: true");
  if (model.auth) {
    lines.push(
      `  authorization { user: ${quote(model.auth.routeUser)}, password: $${VAR_ROUTE_PASSWORD} }`,
      // The URLs carry the route password, so they are defined in the secret include; these are the peers.
      `  # routes to: ${node.routes.map((r) => routeUrl(r)).join(", ")}`,
      `  routes: $${VAR_ROUTES}`,
    );
  } else {
    lines.push(`  routes: ${list(node.routes.map((r) => routeUrl(r)))}`);
  }
  lines.push("}");
  return lines;
}

/** The nats.conf of one node. */
export function renderNatsConf(model: NatsModel, node: NatsNode): string {
  const lines = [`# nats.conf of ${node.name} in cluster ${model.clusterName}; rendered by botplatform-brokers, do not edit.`];
  if (hasSecretConf(model)) {
    const include = posix.relative(posix.dirname(node.configFile), node.secretFile);
    lines.push("# Passwords (and the route URLs that carry one) are variables defined in the secret include.", `include ${quote(include)}`);
  }
  lines.push(
    "",
    `server_name: ${quote(node.name)}`,
    `listen: ${hostPort(node.listen)}`,
    ...(node.clientAdvertise ? [`client_advertise: ${hostPort(node.clientAdvertise)}`] : []),
    `http: ${hostPort(node.monitor)}`,
    `lame_duck_duration: ${quote(`${model.lameDuckDurationSeconds}s`)}`,
    `lame_duck_grace_period: ${quote(`${model.lameDuckGracePeriodSeconds}s`)}`,
    "",
    "jetstream {",
    `  store_dir: ${quote(node.storeDir)}`,
    `  max_file_store: ${model.jetstream.maxFileStoreBytes}`,
    `  max_memory_store: ${model.jetstream.maxMemoryStoreBytes}`,
    "}",
  );
  if (node.cluster) lines.push("", ...clusterBlock(model, node, node.cluster));
  if (model.auth) {
    lines.push(
      "",
      "authorization {",
      "  users: [",
      "    {",
      `      user: ${quote(model.auth.user)}`,
      `      password: $${VAR_BUS_PASSWORD}`,
      ...permissionsBlock(model.auth.permissions, "      "),
      "    }",
      "  ]",
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The secret include of one node, or undefined when the stage runs without auth. */
export function renderNatsSecretConf(model: NatsModel, node: NatsNode, secrets: NatsSecrets): string | undefined {
  if (!model.auth) return undefined;
  const lines = [`# Secrets of ${node.name}: variables its nats.conf references. Rendered by botplatform-brokers.`, `${VAR_BUS_PASSWORD}: ${quote(secrets.busPassword)}`];
  if (node.cluster) {
    const credentials = `${encodeURIComponent(model.auth.routeUser)}:${encodeURIComponent(secrets.routePassword)}@`;
    lines.push(`${VAR_ROUTE_PASSWORD}: ${quote(secrets.routePassword)}`, `${VAR_ROUTES}: [`, ...node.routes.map((r) => `  ${quote(routeUrl(r, credentials))}`), "]");
  }
  return `${lines.join("\n")}\n`;
}
