/**
 * The smoke CLI as a real child process against real redis-server: exit codes 0/1/2, reports, TLS,
 * Ctrl-C, and that no password reaches stdout, stderr or any report.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALHOST, freePort } from "../harness/ports.js";
import { startRedis, type RedisServer } from "../harness/redis.js";

const ROOT = resolve(__dirname, "../..");
const PASSWORD = "it-cli-Pw-4e1b7d";
const WRONG = "it-cli-Wrong-93ac";

let server: RedisServer;
let tlsServer: RedisServer | undefined;
let caFile: string | undefined;
const dir = mkdtempSync(join(tmpdir(), "bp-cli-it-"));

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1 (it is its own CA). */
function selfSignedCert(): { certFile: string; keyFile: string; caFile: string } {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", `/CN=${LOCALHOST}`, "-addext", `subjectAltName=IP:${LOCALHOST}`], { stdio: "ignore" });
  return { certFile, keyFile, caFile: certFile };
}

beforeAll(async () => {
  server = await startRedis({ password: PASSWORD });
  if (hasOpenssl()) {
    const tls = selfSignedCert();
    caFile = tls.caFile;
    tlsServer = await startRedis({ password: PASSWORD, tls, name: "redis-tls" });
  }
});

afterAll(async () => {
  await Promise.all([server?.stop(), tlsServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; command?: string[]; interruptOn?: RegExp } = {}): Promise<CliRun> {
  // `npx tsx healthchecks/cli.ts` in one process: no npx start-up, no tsx supervisor process.
  const [program, ...pre] = options.command ?? [process.execPath, "--import", "tsx", join(ROOT, "healthchecks/cli.ts")];
  const started = Date.now();
  const child = spawn(program!, [...pre, ...args], { cwd: ROOT, env: { ...process.env, CI: "true", GITHUB_STEP_SUMMARY: "", ...options.env } });
  let stdout = "";
  let stderr = "";
  let interrupted = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    // Interrupt only once the CLI is running (and has its handler), not while node is still starting.
    if (options.interruptOn?.test(stdout) && !interrupted) interrupted = child.kill("SIGINT");
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? "");
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr, ms: Date.now() - started })));
}

function endpointsFile(name: string, redis: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ version: 1, stage: "it", redis }));
  return path;
}

const reportArgs = (name: string): { args: string[]; files: string[] } => {
  const files = ["json", "xml", "md"].map((ext) => join(dir, name, `out.${ext}`));
  return { args: ["--json", files[0]!, "--junit", files[1]!, "--summary", files[2]!], files };
};

function expectNoSecret(run: CliRun, files: string[], secrets: string[]): void {
  const texts = [run.stdout, run.stderr, ...files.map((f) => readFileSync(f, "utf8"))];
  for (const secret of secrets) for (const text of texts) expect(text).not.toContain(secret);
}

describe("botplatform-smoke (child process)", () => {
  it("exits 0 on a healthy server and writes all reports, with the password in none of the output", async () => {
    const { args, files } = reportArgs("pass");
    const run = await cli(["--endpoints", endpointsFile("ok.json", { url: server.url }), ...args]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^redis {4}streams-round  pass/m);
    expect(run.stdout).toMatch(/^smoke it: PASS/m);
    expect(JSON.parse(readFileSync(files[0]!, "utf8"))).toMatchObject({ verdict: "pass", tiers: [{ tier: "redis", verdict: "pass" }] });
    expect(readFileSync(files[1]!, "utf8")).toMatch(/^<\?xml[^>]*\?>\n<testsuites [^>]*failures="0"/);
    expect(readFileSync(files[2]!, "utf8")).toContain("| redis | ✅ pass |");
    expectNoSecret(run, files, [PASSWORD]);
  });

  it("exits 1 on a wrong password, saying so in one line and printing neither password", async () => {
    const { args, files } = reportArgs("wrong");
    const url = `redis://default:${WRONG}@${LOCALHOST}:${server.port}/0`;
    const run = await cli(["--endpoints", endpointsFile("wrong.json", { url }), ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("authentication failed for user default");
    expectNoSecret(run, files, [PASSWORD, WRONG]);
  });

  it("exits 1 within the deadline when the server is down", async () => {
    const url = `redis://${LOCALHOST}:${await freePort()}`;
    const run = await cli(["--endpoints", endpointsFile("down.json", { url }), "--deadline", "1"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/not ready within 1 s \(\d+ attempts\): connection refused/);
    expect(run.ms).toBeLessThan(1000 + 5000); // the deadline plus process start-up on a slow box
  });

  it("exits 2 on malformed endpoints, naming the field, with no stack trace and no secret", async () => {
    const run = await cli(["--endpoints", endpointsFile("bad.json", { url: `http://default:${PASSWORD}@h`, replicas: "one" })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("botplatform-smoke: invalid endpoints from `" + join(dir, "bad.json") + "`: redis.url: must be a redis:// or rediss:// URL; redis.replicas: must be a number\n");
    expect(run.stdout).toBe("");
  });

  it("passes degraded (exit 0) unless --strict (exit 1)", async () => {
    const path = endpointsFile("degraded.json", { url: server.url, replicas: 1 });
    expect((await cli(["--endpoints", path])).code).toBe(0);
    const strict = await cli(["--endpoints", path, "--strict", "--quiet"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe("redis    DEGRADED (4 steps, " + strict.stdout.split("steps, ")[1]); // quiet: only the non-pass tier
  });

  it("reads the endpoints from stdin", async () => {
    const run = await cli(["--endpoints", "-", "--tiers", "redis"], { stdin: JSON.stringify({ version: 1, stage: "it", redis: { url: server.url } }) });
    expect(run.code).toBe(0);
  });

  it("exits 2 for --stack when pulumi is not on PATH", async () => {
    const run = await cli(["--stack", "ci"], { env: { PATH: dirname(process.execPath) } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("botplatform-smoke: `--stack` needs the pulumi CLI, which is not on PATH (install it, or pass `--endpoints <file>`)\n");
  });

  it("stops on Ctrl-C, still reporting, and exits 1", async () => {
    const { args, files } = reportArgs("interrupted");
    const url = `redis://${LOCALHOST}:${await freePort()}`;
    const run = await cli(["--endpoints", endpointsFile("int.json", { url }), "--deadline", "60", ...args], { interruptOn: /not ready \(attempt 2\)/ });
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(30_000); // far from the 60 s deadline
    expect(JSON.parse(readFileSync(files[0]!, "utf8")).tiers[0].reason).toMatch(/^aborted: connection refused/);
  });

  it("runs through the package's bin script", async () => {
    const run = await cli(["--endpoints", endpointsFile("bin.json", { url: server.url })], { command: [process.execPath, join(ROOT, "bin/botplatform-smoke.js")] });
    expect(run.code).toBe(0);
  });
});

describe.skipIf(!hasOpenssl())("botplatform-smoke over TLS (rediss://)", () => {
  it("passes when the server's CA is trusted (NODE_EXTRA_CA_CERTS)", async () => {
    const run = await cli(["--endpoints", endpointsFile("tls.json", { url: tlsServer!.tlsUrl })], { env: { NODE_EXTRA_CA_CERTS: caFile } });
    expect(run.stdout).toContain(`connect        pass`);
    expect(run.stdout).toContain(`${LOCALHOST}:${tlsServer!.tlsPort} (TLS)`);
    expect(run.code).toBe(0);
  });

  it("fails at once, naming the TLS problem, when the certificate is not trusted", async () => {
    const run = await cli(["--endpoints", endpointsFile("tls-untrusted.json", { url: tlsServer!.tlsUrl }), "--deadline", "10"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: self[- ]signed certificate/);
    expect(run.ms).toBeLessThan(5000); // not retried until the deadline
  });
});
