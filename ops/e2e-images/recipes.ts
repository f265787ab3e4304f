/**
 * PURE: how each e2e test image is made from Debian packages plus the binaries the tier engineers'
 * install scripts already put in .cache/ (nats-server and the nats CLI, the Kafka jars). The image
 * contract (components/targets/image-contract.ts) says what an image must offer; a recipe says how
 * this project provides it without any registry. `dockerfile()` renders a recipe for `docker build`
 * FROM the shared debootstrap base.
 */
import { IMAGE_CONTRACTS, type ImageContract, type ImageKey } from "../../components/targets/image-contract.js";

/** A file the build copies into the image: from the host (`source`) or generated (`content`). */
export interface ImageFile {
  /** Absolute path inside the image. */
  path: string;
  source?: string;
  content?: string;
  /** @default 0o755 for generated scripts ending in `.sh`, else 0o644; a `source` keeps 0o755 */
  mode: number;
}

export interface ImageRecipe {
  key: ImageKey;
  contract: ImageContract;
  /** Debian packages (bookworm main), installed with `--no-install-recommends`. */
  packages: readonly string[];
  files: readonly ImageFile[];
  /** Shell run as root after packages and files are in place. */
  setup: readonly string[];
  /** Image environment beyond the contract's (PATH order, console logging). */
  env: Readonly<Record<string, string>>;
}

/** Where the install scripts left their outputs. */
export interface CacheInputs {
  natsServer: string;
  natsCli: string;
  /** `.cache/kafka-<version>/libs`: every jar in it. */
  kafkaLibs: readonly { name: string; source: string }[];
}

const KAFKA_HOME = "/opt/kafka";

/** Kafka's own scripts are not on Maven Central: these stand-ins run the same main classes. */
export const KAFKA_TOOLS: Readonly<Record<string, string>> = {
  "kafka-storage.sh": "kafka.tools.StorageTool",
  "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
  "kafka-configs.sh": "kafka.admin.ConfigCommand",
  "kafka-metadata-quorum.sh": "org.apache.kafka.tools.MetadataQuorumCommand",
  "kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
  "kafka-consumer-groups.sh": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
};

/**
 * `kafka-run-class.sh` as Kafka ships it, reduced to what matters in a container: the same env knobs
 * (KAFKA_HEAP_OPTS default -Xmx256M, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS, KAFKA_OPTS), logs
 * to the console, no GC log files.
 */
const RUN_CLASS = `#!/bin/bash
# Stand-in for Kafka's kafka-run-class.sh (the e2e test image has Kafka's jars but not its tarball).
base_dir="$(cd "$(dirname "$0")/.." && pwd)"
: "\${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "\${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
: "\${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml}"
# shellcheck disable=SC2086 # the *_OPTS are word lists, as in Kafka's script
exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_LOG4J_OPTS -cp "$base_dir/libs/*" \${KAFKA_OPTS:-} "$@"
`;

/** `kafka-server-start.sh`: 1 GiB heap unless KAFKA_HEAP_OPTS says otherwise, as Kafka's own script. */
const SERVER_START = `#!/bin/bash
# Stand-in for Kafka's kafka-server-start.sh: the same defaults, then kafka.Kafka.
if [ $# -lt 1 ]; then echo "USAGE: $0 server.properties [--override property=value]*" >&2; exit 1; fi
base_dir="$(cd "$(dirname "$0")/.." && pwd)"
: "\${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
: "\${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base_dir/config/log4j2.yaml}"
export KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS
exec "$base_dir/bin/kafka-run-class.sh" kafka.Kafka "$@"
`;

function toolScript(mainClass: string): string {
  return `#!/bin/bash\nexec "$(dirname "$0")/kafka-run-class.sh" ${mainClass} "$@"\n`;
}

function log4j(level: string, target: "SYSTEM_OUT" | "SYSTEM_ERR"): string {
  return [
    "Configuration:",
    "  Appenders:",
    "    Console:",
    "      name: CONSOLE",
    `      target: ${target}`,
    "      PatternLayout:",
    '        pattern: "[%d] %p %m (%c)%n"',
    "  Loggers:",
    "    Root:",
    `      level: ${level}`,
    "      AppenderRef:",
    "        - ref: CONSOLE",
    "",
  ].join("\n");
}

/**
 * The official rabbitmq image's entrypoint, for a non-root start: default to long node names when
 * the host name is a FQDN, then exec the command (the root branch, chown + gosu, never runs here:
 * the kit starts the broker as the rabbitmq user).
 */
const RABBITMQ_ENTRYPOINT = `#!/bin/bash
set -euo pipefail
if [ -z "\${RABBITMQ_USE_LONGNAME:-}" ] && [ "$(hostname)" != "$(hostname -s)" ]; then
  export RABBITMQ_USE_LONGNAME=true
fi
exec "$@"
`;

const generated = (path: string, content: string): ImageFile => ({ path, content, mode: path.endsWith(".sh") ? 0o755 : 0o644 });

export function imageRecipes(inputs: CacheInputs): Record<ImageKey, ImageRecipe> {
  return {
    redis: {
      key: "redis",
      contract: IMAGE_CONTRACTS.redis,
      packages: ["redis-server"],
      files: [],
      // Debian's package would start its own server and keep its config under /etc/redis: neither is used.
      setup: [],
      env: {},
    },
    nats: {
      key: "nats",
      contract: IMAGE_CONTRACTS.nats,
      packages: ["wget"],
      files: [{ path: "/usr/local/bin/nats-server", source: inputs.natsServer, mode: 0o755 }],
      setup: [],
      env: {},
    },
    natsBox: {
      key: "natsBox",
      contract: IMAGE_CONTRACTS.natsBox,
      packages: [],
      files: [{ path: "/usr/local/bin/nats", source: inputs.natsCli, mode: 0o755 }],
      setup: [],
      env: {},
    },
    kafka: {
      key: "kafka",
      contract: IMAGE_CONTRACTS.kafka,
      packages: ["openjdk-17-jre-headless"],
      files: [
        ...inputs.kafkaLibs.map((jar) => ({ path: `${KAFKA_HOME}/libs/${jar.name}`, source: jar.source, mode: 0o644 })),
        generated(`${KAFKA_HOME}/bin/kafka-run-class.sh`, RUN_CLASS),
        generated(`${KAFKA_HOME}/bin/kafka-server-start.sh`, SERVER_START),
        ...Object.entries(KAFKA_TOOLS).map(([script, mainClass]) => generated(`${KAFKA_HOME}/bin/${script}`, toolScript(mainClass))),
        generated(`${KAFKA_HOME}/config/log4j2.yaml`, log4j("INFO", "SYSTEM_OUT")),
        generated(`${KAFKA_HOME}/config/tools-log4j2.yaml`, log4j("WARN", "SYSTEM_ERR")),
      ],
      // As in apache/kafka: the user owns /opt/kafka.
      setup: [`chown -R ${IMAGE_CONTRACTS.kafka.user.uid}:${IMAGE_CONTRACTS.kafka.user.gid} ${KAFKA_HOME}`],
      env: {},
    },
    rabbitmq: {
      key: "rabbitmq",
      contract: IMAGE_CONTRACTS.rabbitmq,
      packages: ["rabbitmq-server"],
      files: [generated("/usr/local/bin/docker-entrypoint.sh", RABBITMQ_ENTRYPOINT)],
      // Debian's /usr/sbin wrappers re-exec through `su` and log to files; the generic scripts exec
      // the VM directly (signals reach it), like the official image's. Its log dir stays writable.
      setup: [`chown -R ${IMAGE_CONTRACTS.rabbitmq.user.uid}:${IMAGE_CONTRACTS.rabbitmq.user.gid} /var/log/rabbitmq`],
      env: { PATH: "/usr/lib/rabbitmq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", RABBITMQ_LOGS: "-" },
    },
  };
}

/** The build context's directory that `COPY` puts onto `/`. */
export const CONTEXT_ROOT = "rootfs";

/** The Dockerfile of a recipe, FROM the shared base image. */
export function dockerfile(recipe: ImageRecipe, baseImage: string): string {
  const { user, dataDir, env } = recipe.contract;
  const lines = [`FROM ${baseImage}`, "SHELL [\"/bin/bash\", \"-euo\", \"pipefail\", \"-c\"]"];
  if (user.uid !== 0) {
    // Before the packages: their maintainer scripts find the user and keep its fixed uid.
    const home = env.HOME ?? dataDir ?? `/home/${user.name}`;
    lines.push(`RUN groupadd --system --gid ${user.gid} ${user.name} && useradd --system --uid ${user.uid} --gid ${user.gid} --home-dir ${home} --no-create-home --shell /usr/sbin/nologin ${user.name}`);
  }
  if (recipe.packages.length > 0) {
    lines.push(
      `RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${[...recipe.packages].sort().join(" ")} >/dev/null && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d`,
    );
  }
  if (recipe.files.length > 0) lines.push(`COPY ${CONTEXT_ROOT}/ /`);
  const setup = [...(dataDir !== undefined ? [`mkdir -p ${dataDir} && chown ${user.uid}:${user.gid} ${dataDir}`] : []), ...recipe.setup];
  if (setup.length > 0) lines.push(`RUN ${setup.join(" && ")}`);
  const allEnv = { ...env, ...recipe.env };
  for (const key of Object.keys(allEnv).sort()) lines.push(`ENV ${key}=${JSON.stringify(allEnv[key])}`);
  lines.push(`USER ${user.uid}:${user.gid}`);
  lines.push(`LABEL io.botplatform.e2e-image=${JSON.stringify(recipe.key)} io.botplatform.e2e-contract=${JSON.stringify(recipe.contract.repository)}`);
  return `${lines.join("\n")}\n`;
}

/** A shell script that exits 0 only when the image honours its contract (run as the image's user). */
export function contractCheckScript(contract: ImageContract): string {
  const checks = [
    `[ "$(id -u)" = ${contract.user.uid} ] || { echo "runs as uid $(id -u), not ${contract.user.uid}"; exit 1; }`,
    ...contract.programs.map((program) =>
      program.startsWith("/")
        ? `[ -x ${program} ] || { echo "missing program ${program}"; exit 1; }`
        : `command -v ${program} >/dev/null || { echo "missing program ${program} on PATH"; exit 1; }`,
    ),
    ...(contract.dataDir === undefined ? [] : [contract.dataDir]).map(
      (dir) => `[ "$(stat -c %u ${dir})" = ${contract.user.uid} ] && touch ${dir}/.probe && rm ${dir}/.probe || { echo "${dir} is not writable by uid ${contract.user.uid}"; exit 1; }`,
    ),
    ...Object.entries(contract.env).map(([key, value]) => `[ "$${key}" = ${JSON.stringify(value)} ] || { echo "${key} is not ${value}"; exit 1; }`),
    'echo "contract ok"',
  ];
  return checks.join("\n");
}
