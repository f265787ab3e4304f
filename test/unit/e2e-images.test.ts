/**
 * The registry-free e2e images, without an engine: the image contract's reference parsing, the apt
 * mirror and codename discovery, the recipes rendered as Dockerfiles (fixed uids before packages, the
 * contract's user and env), content-hashed build contexts, the ustar writer (read back by GNU tar)
 * and the engine's log stream demultiplexer.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contractOf, IMAGE_CONTRACTS, IMAGE_KEYS, repositoryOf } from "../../components/targets/image-contract.js";
import { demuxLogs, socketFromEnv } from "../../ops/docker-engine/client.js";
import { tarArchive } from "../../ops/docker-engine/tar.js";
import { codenameOf, mirrorOf } from "../../ops/e2e-images/base.js";
import { buildContext, imageRepository } from "../../ops/e2e-images/build.js";
import { contractCheckScript, dockerfile, imageRecipes, KAFKA_TOOLS, type CacheInputs } from "../../ops/e2e-images/recipes.js";

describe("image references -> contract", () => {
  it.each([
    ["redis:7.4", "redis", "redis"],
    ["docker.io/library/redis:7.4@sha256:abc", "redis", "redis"],
    ["nats:2.14.10-alpine", "nats", "nats"],
    ["natsio/nats-box:0.19.7", "natsio/nats-box", "natsBox"],
    ["apache/kafka:4.1.1", "apache/kafka", "kafka"],
    ["registry.example.com:5000/apache/kafka:4.1.1", "apache/kafka", "kafka"],
    ["rabbitmq:4.1-management", "rabbitmq", "rabbitmq"],
    ["bitnami/redis:7.4", "bitnami/redis", undefined],
  ])("%s", (image, repository, key) => {
    expect(repositoryOf(image)).toBe(repository);
    expect(contractOf(image)).toBe(key);
  });
});

describe("the apt source debootstrap uses", () => {
  it("reads the codename from os-release", () => {
    expect(codenameOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')).toBe("bookworm");
    expect(codenameOf("ID=alpine\n")).toBeUndefined();
  });

  it.each([
    ["deb822, release suite listed with -updates", ["Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"], "http://deb.debian.org/debian"],
    [
      "deb822, security first in another file",
      ["Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n", "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"],
      "http://mirror.example/debian",
    ],
    ["one-line with options", ["# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://ftp.example/debian bookworm main\n"], "http://ftp.example/debian"],
    ["deb-src only", ["Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n"], undefined],
    ["another release", ["deb http://deb.debian.org/debian bullseye main\n"], undefined],
  ])("%s", (_what, files, mirror) => {
    expect(mirrorOf(files, "bookworm")).toBe(mirror);
  });
});

function fakeInputs(): CacheInputs {
  const dir = mkdtempSync(join(tmpdir(), "bp-images-"));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  return { natsServer: file("nats-server", "server"), natsCli: file("nats", "cli"), kafkaLibs: [{ name: "kafka_2.13-4.1.1.jar", source: file("kafka.jar", "jar") }] };
}

describe("recipes", () => {
  const inputs = fakeInputs();
  const recipes = imageRecipes(inputs);

  it("has one recipe per contract", () => {
    expect(Object.keys(recipes).sort()).toEqual([...IMAGE_KEYS].sort());
  });

  it.each(IMAGE_KEYS)("%s: the contract's user, created before any package, is the image's user", (key) => {
    const { user } = IMAGE_CONTRACTS[key];
    const text = dockerfile(recipes[key], "bp-e2e/base:x");
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe("FROM bp-e2e/base:x");
    expect(lines.at(-2)).toBe(`USER ${user.uid}:${user.gid}`);
    if (user.uid !== 0) {
      const useradd = lines.findIndex((l) => l.includes(`useradd --system --uid ${user.uid} --gid ${user.gid}`));
      const apt = lines.findIndex((l) => l.includes("apt-get install"));
      expect(useradd).toBeGreaterThan(0);
      if (apt !== -1) expect(useradd).toBeLessThan(apt);
    }
    const { dataDir } = IMAGE_CONTRACTS[key] as { dataDir?: string };
    if (dataDir !== undefined) expect(text).toContain(`chown ${user.uid}:${user.gid} ${dataDir}`);
    for (const [name, value] of Object.entries(IMAGE_CONTRACTS[key].env)) expect(text).toContain(`ENV ${name}=${JSON.stringify(value)}`);
  });

  it("provides every Kafka tool of the contract", () => {
    const scripts = recipes.kafka.files.map((f) => f.path);
    for (const program of IMAGE_CONTRACTS.kafka.programs.filter((p) => p.startsWith("/opt/kafka/bin/"))) expect(scripts).toContain(program);
    for (const [script, mainClass] of Object.entries(KAFKA_TOOLS)) expect(recipes.kafka.files.find((f) => f.path.endsWith(`/${script}`))?.content).toContain(mainClass);
  });

  it("checks every program, the uid, the writable dirs and the env of a contract", () => {
    const script = contractCheckScript(IMAGE_CONTRACTS.rabbitmq);
    for (const program of IMAGE_CONTRACTS.rabbitmq.programs) expect(script).toContain(program);
    expect(script).toContain('[ "$(id -u)" = 999 ]');
    expect(script).toContain("/var/lib/rabbitmq/.probe");
    expect(script).toContain('[ "$HOME" = "/var/lib/rabbitmq" ]');
  });

  it("hashes what goes into an image: same inputs, same tag; one changed byte, another", () => {
    const first = buildContext(recipes.nats, "base:1").hash;
    expect(buildContext(imageRecipes(inputs).nats, "base:1").hash).toBe(first);
    expect(buildContext(recipes.nats, "base:2").hash).not.toBe(first);
    writeFileSync(inputs.natsServer, "server!");
    expect(buildContext(recipes.nats, "base:1").hash).not.toBe(first);
  });

  it("names repositories in lowercase", () => {
    expect(IMAGE_KEYS.map(imageRepository)).toContain("bp-e2e/nats-box");
  });
});

describe("tarArchive", () => {
  it("writes what GNU tar reads back: paths, long paths, modes, owners, content", () => {
    const dir = mkdtempSync(join(tmpdir(), "bp-tar-"));
    const long = `${"deep/".repeat(30)}file.txt`;
    writeFileSync(
      join(dir, "a.tar"),
      tarArchive([
        { path: "/run/secrets/redis/password", content: Buffer.from("pw"), mode: 0o400, uid: 999, gid: 998 },
        { path: "etc/nats", type: "directory" },
        { path: long, content: Buffer.alloc(1000, 66) },
      ]),
    );
    const listing = execFileSync("tar", ["tvf", join(dir, "a.tar"), "--numeric-owner"], { encoding: "utf8" }).trim().split("\n");
    expect(listing[0]).toMatch(/^-r-------- 999\/998 +2 .* run\/secrets\/redis\/password$/);
    expect(listing[1]).toMatch(/^drwxr-xr-x 0\/0 +0 .* etc\/nats\/$/);
    expect(listing[2]).toMatch(new RegExp(`^-rw-r--r-- 0/0 +1000 .* ${long}$`));
    execFileSync("tar", ["xf", join(dir, "a.tar"), "-C", dir]);
    expect(readFileSync(join(dir, "run/secrets/redis/password"), "utf8")).toBe("pw");
    expect(readFileSync(join(dir, long)).equals(Buffer.alloc(1000, 66))).toBe(true);
  });

  it("refuses a path ustar cannot hold", () => {
    expect(() => tarArchive([{ path: "x".repeat(300), content: Buffer.from("") }])).toThrow("path too long");
  });
});

describe("engine client helpers", () => {
  it("demultiplexes stdout and stderr frames", () => {
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demuxLogs(Buffer.from("plain tty text"))).toBe("plain tty text");
  });

  it.each([
    [{}, "/var/run/docker.sock"],
    [{ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }, "/run/user/1000/docker.sock"],
  ])("socket from %j", (env, socket) => expect(socketFromEnv(env)).toBe(socket));

  it("refuses a TCP DOCKER_HOST", () => expect(() => socketFromEnv({ DOCKER_HOST: "tcp://10.0.0.1:2375" })).toThrow("only unix://"));
});
