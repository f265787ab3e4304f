/**
 * The image contract: everything the kit relies on in the public broker images it deploys, in one
 * place. Tier components take the uid, paths and program names from here, and the e2e image builder
 * (ops/e2e-images) builds its registry-free test images from the same data and checks each image
 * honours it. A component that needs anything else of an image (an entrypoint's behaviour, an env
 * convention, a file the image ships) must add it here first, or the e2e replay will not have it.
 *
 * What the kit does NOT rely on: image entrypoints (every command names its program), config files
 * shipped in the image (the kit uploads or mounts complete configs), image-specific env conventions.
 */
import type { TierName } from "../stage.js";

export interface ImageUser {
  name: string;
  uid: number;
  gid: number;
}

export interface ImageContract {
  /** The tier whose containers run the image. */
  tier: TierName;
  /** Repository of the public image the kit deploys by default (its tag follows the tier's version). */
  repository: string;
  /**
   * Programs the kit's commands, health checks and init tasks run: a name is looked up on PATH, an
   * absolute path must exist and be executable.
   */
  programs: readonly string[];
  /**
   * The user the broker runs as in the public image (after its entrypoint steps down, where it has
   * one). Data volumes must be writable by it; the test images run everything as this user.
   */
  user: ImageUser;
  /**
   * Where the kit mounts the node's data volume: exists in the image, owned by `user` (a fresh named
   * volume mounted there inherits that). None for a tools image.
   */
  dataDir?: string;
  /** Environment the kit's commands rely on. */
  env: Readonly<Record<string, string>>;
}

/** Every image the kit deploys, by a key the tiers and the image builder share. */
export const IMAGE_CONTRACTS = {
  /** `redis:<version>`: data in /data, the `redis` user 999 (components/redis). */
  redis: {
    tier: "redis",
    repository: "redis",
    programs: ["redis-server", "redis-cli", "sh", "timeout"],
    user: { name: "redis", uid: 999, gid: 999 },
    dataDir: "/data",
    env: {},
  },
  /** `nats:<version>-alpine`: root; the alpine variant for the `wget` of the HTTP health check. */
  nats: {
    tier: "nats",
    repository: "nats",
    programs: ["nats-server", "wget"],
    user: { name: "root", uid: 0, gid: 0 },
    dataDir: "/data",
    env: {},
  },
  /** `natsio/nats-box`: the `nats` CLI the NATS channel init task runs, as uid 1000 (the NATS chart's uid). */
  natsBox: {
    tier: "nats",
    repository: "natsio/nats-box",
    programs: ["nats", "sh"],
    user: { name: "nats", uid: 1000, gid: 1000 },
    env: {},
  },
  /** `apache/kafka:<version>`: tools in /opt/kafka/bin, the `appuser` 1000 (components/kafka). */
  kafka: {
    tier: "kafka",
    repository: "apache/kafka",
    programs: [
      "sh",
      "bash",
      "sed",
      // The topics init script parses `kafka-topics.sh --describe` with them.
      "awk",
      "tr",
      "/opt/kafka/bin/kafka-server-start.sh",
      "/opt/kafka/bin/kafka-storage.sh",
      "/opt/kafka/bin/kafka-topics.sh",
      "/opt/kafka/bin/kafka-configs.sh",
      "/opt/kafka/bin/kafka-metadata-quorum.sh",
      "/opt/kafka/bin/kafka-broker-api-versions.sh",
    ],
    user: { name: "appuser", uid: 1000, gid: 1000 },
    dataDir: "/var/lib/kafka/data",
    env: {},
  },
  /** `rabbitmq:<version>-management`: the `rabbitmq` user 999, its home (Erlang cookie) /var/lib/rabbitmq. */
  rabbitmq: {
    tier: "rabbitmq",
    repository: "rabbitmq",
    // The kit starts the broker through the image's `docker-entrypoint.sh` (it execs its arguments when
    // not root) after `install`ing the Erlang cookie into $HOME.
    programs: ["sh", "install", "docker-entrypoint.sh", "rabbitmq-server", "rabbitmq-diagnostics", "rabbitmqctl", "rabbitmq-plugins", "rabbitmq-upgrade"],
    user: { name: "rabbitmq", uid: 999, gid: 999 },
    dataDir: "/var/lib/rabbitmq",
    env: { HOME: "/var/lib/rabbitmq" },
  },
} as const satisfies Record<string, ImageContract>;

export type ImageKey = keyof typeof IMAGE_CONTRACTS;

export const IMAGE_KEYS = Object.keys(IMAGE_CONTRACTS) as ImageKey[];

/**
 * Which contract an image reference belongs to: `redis:7.4`, `docker.io/library/redis:7.4`,
 * `apache/kafka:4.1.1`, `natsio/nats-box:0.19.7`. Undefined for an image the kit does not know.
 */
export function contractOf(image: string): ImageKey | undefined {
  const repository = repositoryOf(image);
  return IMAGE_KEYS.find((key) => IMAGE_CONTRACTS[key].repository === repository);
}

/** `docker.io/library/redis:7.4@sha256:...` -> `redis`. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  const parts = name.split("/");
  // A first part with a dot or a port is a registry host; Docker Hub's official images live in `library/`.
  if (parts.length > 1 && /[.:]/.test(parts[0]!)) parts.shift();
  if (parts[0] === "library" && parts.length > 1) parts.shift();
  return parts.join("/");
}
