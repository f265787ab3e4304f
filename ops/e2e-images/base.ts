/**
 * The shared base of every e2e test image: a Debian root filesystem built by `debootstrap` (minbase)
 * from the very mirror apt on this machine uses, imported into the engine with `POST /images/create`.
 * Built once; its tag is a hash of what goes into it.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DockerEngine, EngineError } from "../docker-engine/client.js";

/** Bump when the way the base is made changes (the tag changes with it). */
const BASE_RECIPE_VERSION = 1;
export const E2E_IMAGE_REPOSITORY_PREFIX = "bp-e2e";

export interface DebianSource {
  mirror: string;
  codename: string;
}

/** The codename from os-release text (`VERSION_CODENAME=bookworm`). */
export function codenameOf(osRelease: string): string | undefined {
  return /^VERSION_CODENAME=["']?([a-z]+)["']?$/m.exec(osRelease)?.[1];
}

/**
 * The mirror apt already uses for the release itself (not -security, not -updates), from one-line
 * (`deb URI suite components`) or deb822 (`URIs:` / `Suites:`) source files.
 */
export function mirrorOf(sourceFiles: readonly string[], codename: string): string | undefined {
  for (const text of sourceFiles) {
    for (const line of text.split("\n")) {
      const oneLine = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (oneLine && oneLine[2] === codename) return oneLine[1];
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (!field("Types").includes("deb")) continue;
      if (field("Suites").includes(codename)) return field("URIs")[0];
    }
  }
  return undefined;
}

export function debianSource(etc = "/etc"): DebianSource {
  const codename = codenameOf(readFileSync(join(etc, "os-release"), "utf8"));
  if (codename === undefined) throw new Error(`no VERSION_CODENAME in ${etc}/os-release: not a Debian-like machine`);
  const files = [join(etc, "apt", "sources.list")].filter(existsSync);
  const dir = join(etc, "apt", "sources.list.d");
  if (existsSync(dir)) files.push(...readdirSync(dir).filter((f) => /\.(list|sources)$/.test(f)).sort().map((f) => join(dir, f)));
  const mirror = mirrorOf(files.map((f) => readFileSync(f, "utf8")), codename);
  if (mirror === undefined) throw new Error(`no apt source for \`${codename}\` in ${files.join(", ")}`);
  return { mirror, codename };
}

export function baseTag(source: DebianSource): string {
  const hash = createHash("sha256").update(JSON.stringify({ source, variant: "minbase", version: BASE_RECIPE_VERSION })).digest("hex").slice(0, 16);
  return `${E2E_IMAGE_REPOSITORY_PREFIX}/base:${hash}`;
}

export async function imageExists(engine: DockerEngine, image: string): Promise<boolean> {
  try {
    await engine.call({ method: "GET", path: `/images/${encodeURIComponent(image)}/json` });
    return true;
  } catch (err) {
    if (err instanceof EngineError && err.status === 404) return false;
    throw err;
  }
}

function run(command: string, args: readonly string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString("utf8")).slice(-4000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        log(tail);
        reject(new Error(`${command} ${args.join(" ")} exited ${code}`));
      }
    });
  });
}

/** Builds and imports the base unless the engine already has it; returns its tag. */
export async function ensureBase(engine: DockerEngine, workDir: string, log: (line: string) => void): Promise<string> {
  const source = debianSource();
  const tag = baseTag(source);
  if (await imageExists(engine, tag)) return tag;
  log(`debootstrap --variant=minbase ${source.codename} from ${source.mirror} (about a minute)`);
  const dir = mkdtempSync(join(workDir, "rootfs-"));
  try {
    await run("debootstrap", ["--variant=minbase", source.codename, dir, source.mirror], log);
    // Package lists and downloaded .debs only make the image bigger; derived images fetch fresh lists.
    rmSync(join(dir, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    rmSync(join(dir, "var", "lib", "apt", "lists"), { recursive: true, force: true });
    const tar = spawn("tar", ["--numeric-owner", "-C", dir, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const [repo, version] = tag.split(":") as [string, string];
    await engine.stream({
      method: "POST",
      path: "/images/create",
      query: { fromSrc: "-", repo, tag: version },
      body: tar.stdout,
      contentType: "application/x-tar",
      timeoutMs: 10 * 60_000,
    });
    log(`imported ${tag}`);
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
