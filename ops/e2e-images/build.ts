/**
 * Builds the e2e test images without any registry: the debootstrap base (base.ts), then one image per
 * entry of the image contract with `POST /build` FROM that base, from the recipes (recipes.ts) and the
 * binaries scripts/install/{nats,kafka}.sh left in .cache/. Each image's tag is a hash of everything
 * that goes into it, so a re-run with the same inputs builds nothing. Every image is checked against
 * its contract before it is used. Writes the result to .cache/e2e/images.json.
 *
 *   node --import tsx ops/e2e-images/build.ts      (scripts/e2e/build-images.sh runs it under a lock)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { IMAGE_KEYS, type ImageContract, type ImageKey } from "../../components/targets/image-contract.js";
import { demuxLogs, DockerEngine } from "../docker-engine/client.js";
import { tarArchive, type TarEntry } from "../docker-engine/tar.js";
import { E2E_IMAGE_REPOSITORY_PREFIX, ensureBase, imageExists } from "./base.js";
import { CONTEXT_ROOT, contractCheckScript, dockerfile, imageRecipes, type CacheInputs, type ImageRecipe } from "./recipes.js";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const E2E_CACHE_DIR = join(REPO_ROOT, ".cache", "e2e");
export const IMAGES_FILE = join(E2E_CACHE_DIR, "images.json");
/** A build (apt downloads, a JRE) may take minutes on a cold cache. */
const BUILD_TIMEOUT_MS = 15 * 60_000;

export interface BuiltImages {
  base: string;
  /** Test image tag per contract key. */
  images: Record<ImageKey, string>;
}

/** The install scripts' outputs; a clear error names the script to run when one is missing. */
export function findCacheInputs(root = REPO_ROOT, env: Readonly<Record<string, string | undefined>> = process.env): CacheInputs {
  const cache = join(root, ".cache");
  const need = (path: string, script: string) => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/install/${script}`);
    return path;
  };
  const natsServer = need(join(cache, "bin", "nats-server"), "nats.sh");
  const natsCli = need(join(cache, "bin", "nats"), "nats.sh");
  const versions = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => /^kafka-\d/.test(d) && existsSync(join(cache, d, ".installed")))
        .map((d) => d.slice("kafka-".length))
    : [];
  const wanted = env.KAFKA_VERSION;
  const version = wanted ?? versions.sort(compareVersions).at(-1);
  if (version === undefined || !versions.includes(version)) throw new Error(`no Kafka ${wanted ?? ""} jars in ${cache}/kafka-*/libs: run scripts/install/kafka.sh`);
  const libs = join(cache, `kafka-${version}`, "libs");
  const kafkaLibs = readdirSync(libs).filter((f) => f.endsWith(".jar")).sort().map((name) => ({ name, source: join(libs, name) }));
  return { natsServer, natsCli, kafkaLibs };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** `natsBox` -> `bp-e2e/nats-box` (repository names are lowercase). */
export function imageRepository(key: ImageKey): string {
  return `${E2E_IMAGE_REPOSITORY_PREFIX}/${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface BuildContext {
  dockerfile: string;
  entries: TarEntry[];
  /** sha256 of the Dockerfile and of every file's path, mode and content. */
  hash: string;
}

export function buildContext(recipe: ImageRecipe, baseImage: string): BuildContext {
  const text = dockerfile(recipe, baseImage);
  const digest = createHash("sha256").update(text);
  const entries: TarEntry[] = [{ path: "Dockerfile", content: Buffer.from(text) }];
  for (const file of [...recipe.files].sort((a, b) => a.path.localeCompare(b.path))) {
    const content = file.source !== undefined ? readFileSync(file.source) : Buffer.from(file.content ?? "");
    entries.push({ path: `${CONTEXT_ROOT}${file.path}`, content, mode: file.mode });
    digest.update(`\0${file.path}\0${file.mode.toString(8)}\0`).update(createHash("sha256").update(content).digest());
  }
  return { dockerfile: text, entries, hash: digest.digest("hex") };
}

async function buildImage(engine: DockerEngine, recipe: ImageRecipe, baseImage: string, log: (line: string) => void): Promise<string> {
  const context = buildContext(recipe, baseImage);
  const tag = `${imageRepository(recipe.key)}:${context.hash.slice(0, 16)}`;
  if (await imageExists(engine, tag)) return tag;
  log(`building ${tag}`);
  // RUN steps use the host's network: apt reaches the mirror as the host does, with or without NAT.
  await engine.stream(
    { method: "POST", path: "/build", query: { t: tag, rm: true, forcerm: true, networkmode: "host" }, body: tarArchive(context.entries), contentType: "application/x-tar", timeoutMs: BUILD_TIMEOUT_MS },
    (line) => {
      if (typeof line.stream === "string" && line.stream.startsWith("Step ")) log(`  ${recipe.key}: ${line.stream.trim().slice(0, 160)}`);
    },
  );
  await checkContract(engine, tag, recipe.contract);
  return tag;
}

/** Runs the contract check in a throw-away container as the image's default user. */
export async function checkContract(engine: DockerEngine, image: string, contract: ImageContract): Promise<void> {
  const { Id: id } = await engine.json<{ Id: string }>({
    method: "POST",
    path: "/containers/create",
    json: { Image: image, Entrypoint: ["sh", "-c", contractCheckScript(contract)], Labels: { "io.botplatform.e2e-check": "true" }, NetworkDisabled: true },
  });
  try {
    await engine.call({ method: "POST", path: `/containers/${id}/start` });
    const { StatusCode: code } = await engine.json<{ StatusCode: number }>({ method: "POST", path: `/containers/${id}/wait`, timeoutMs: 120_000 });
    const { body } = await engine.call({ method: "GET", path: `/containers/${id}/logs`, query: { stdout: true, stderr: true } });
    if (code !== 0) throw new Error(`${image} breaks the ${contract.repository} image contract: ${demuxLogs(body).trim()}`);
  } finally {
    await engine.call({ method: "DELETE", path: `/containers/${id}`, query: { force: true, v: true } });
  }
}

export async function buildImages(engine = new DockerEngine(), log: (line: string) => void = (line) => process.stderr.write(`[e2e-images] ${line}\n`)): Promise<BuiltImages> {
  if (!(await engine.ping())) throw new Error(`no Docker engine answers on ${engine.socketPath}: run scripts/install/docker.sh`);
  mkdirSync(E2E_CACHE_DIR, { recursive: true });
  const inputs = findCacheInputs();
  const base = await ensureBase(engine, E2E_CACHE_DIR, log);
  const recipes = imageRecipes(inputs);
  const images = {} as Record<ImageKey, string>;
  // One at a time: two apt runs and a JRE unpacking at once only thrash two cores.
  for (const key of IMAGE_KEYS) images[key] = await buildImage(engine, recipes[key], base, log);
  const built: BuiltImages = { base, images };
  writeFileSync(IMAGES_FILE, `${JSON.stringify(built, null, 2)}\n`);
  return built;
}

/** The images the last build recorded; throws naming the script when there are none. */
export function readBuiltImages(file = IMAGES_FILE): BuiltImages {
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/e2e/build-images.sh`);
  return JSON.parse(readFileSync(file, "utf8")) as BuiltImages;
}

if (require.main === module) {
  const started = Date.now();
  buildImages().then(
    (built) => {
      process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
      process.stderr.write(`[e2e-images] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
    (err: unknown) => {
      process.stderr.write(`[e2e-images] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
