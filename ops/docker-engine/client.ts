/**
 * A small Docker Engine API client: plain HTTP over the engine's unix socket, no SDK. It speaks API
 * v1.41 (Docker 20.10, Debian 12's `docker.io`); newer engines still serve it. Every non-2xx answer
 * becomes an `EngineError` naming the call and the engine's own message.
 */
import { request } from "node:http";
import type { Readable } from "node:stream";

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
/** The API version every call is pinned to (Docker 20.10). */
export const ENGINE_API_VERSION = "v1.41";
/** A call that gets no answer in this long fails (long calls pass their own timeout). */
const DEFAULT_TIMEOUT_MS = 60_000;

export class EngineError extends Error {
  override readonly name = "EngineError";
  constructor(
    readonly status: number,
    readonly call: string,
    message: string,
  ) {
    super(`${call}: ${status} ${message}`);
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface EngineCall {
  method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  path: string;
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A raw body (a tar archive); `contentType` says what it is. */
  body?: Buffer | Readable;
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
  /** @default 60000 */
  timeoutMs?: number;
}

export interface EngineResponse {
  status: number;
  body: Buffer;
}

/** `DOCKER_HOST=unix:///path` when set, else the default socket. */
export function socketFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === "") return DEFAULT_DOCKER_SOCKET;
  if (!host.startsWith("unix://")) throw new Error(`DOCKER_HOST=${host}: only unix:// sockets are supported (the e2e suite talks to a local engine)`);
  return host.slice("unix://".length);
}

export class DockerEngine {
  constructor(readonly socketPath: string = socketFromEnv()) {}

  /** Sends one call; a 4xx/5xx answer throws `EngineError`. */
  async call(call: EngineCall): Promise<EngineResponse> {
    const response = await this.send(call, undefined);
    if (response.status >= 400) throw new EngineError(response.status, describe(call), engineMessage(response.body));
    return response;
  }

  /** A call whose answer is JSON. */
  async json<T>(call: EngineCall): Promise<T> {
    const { body } = await this.call(call);
    return (body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))) as T;
  }

  /** True when the engine answers `/_ping`. */
  async ping(): Promise<boolean> {
    try {
      return (await this.send({ method: "GET", path: "/_ping", timeoutMs: 5_000 }, undefined)).status === 200;
    } catch {
      return false;
    }
  }

  /**
   * A call whose answer streams JSON lines (build, import): each line goes to `onLine`; a line with
   * an `error` field fails the call, as the docker CLI does.
   */
  async stream(call: EngineCall, onLine: (line: Record<string, unknown>) => void = () => {}): Promise<void> {
    let failure: string | undefined;
    let pending = "";
    const response = await this.send(call, (chunk) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const text of lines) {
        if (text.trim() === "") continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (typeof line.error === "string") failure ??= line.error;
        onLine(line);
      }
    });
    if (response.status >= 400) throw new EngineError(response.status, describe(call), engineMessage(response.body));
    if (failure !== undefined) throw new EngineError(response.status, describe(call), failure);
  }

  private send(call: EngineCall, onChunk: ((chunk: Buffer) => void) | undefined): Promise<EngineResponse> {
    const path = `/${ENGINE_API_VERSION}${call.path}${queryString(call.query)}`;
    const payload = call.json !== undefined ? Buffer.from(JSON.stringify(call.json)) : call.body;
    const headers: Record<string, string> = { ...call.headers };
    if (call.json !== undefined) headers["content-type"] = "application/json";
    else if (call.contentType !== undefined) headers["content-type"] = call.contentType;
    if (Buffer.isBuffer(payload)) headers["content-length"] = String(payload.length);
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method: call.method, path, headers, timeout: call.timeoutMs ?? DEFAULT_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => {
          // A streamed answer is handed out as it comes; only an error answer is kept for its message.
          if (onChunk !== undefined && (res.statusCode ?? 500) < 400) onChunk(chunk);
          else chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 500, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new EngineError(0, describe(call), `no answer within ${call.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
      req.on("error", (err) => reject(err instanceof EngineError ? err : new EngineError(0, describe(call), `${err.message} (is dockerd running on ${this.socketPath}?)`)));
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on("error", (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }
}

function describe(call: EngineCall): string {
  return `${call.method} ${call.path}`;
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** The engine answers errors as `{"message": "..."}`. */
function engineMessage(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: the text as it is
  }
  return text;
}

/** Splits the engine's multiplexed stdout/stderr log stream (8-byte frame headers) into text. */
export function demuxLogs(raw: Buffer): string {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    // Not a multiplexed stream (a TTY container): the bytes as they are.
    if (stream === undefined || stream > 2 || raw[offset + 1] !== 0) return raw.toString("utf8");
    out.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(out).toString("utf8");
}
