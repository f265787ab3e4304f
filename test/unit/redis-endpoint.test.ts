/**
 * The `redis` block of the endpoints contract, from the real components under Pulumi's mocks (in this
 * test file's own process: `setMocks` first, then the components are imported).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { BrokerPlatform } from "../../components/platform.js";
import { parseStage, PROJECT } from "../../components/stage.js";

type Platform = typeof BrokerPlatform;
let Platform: Platform;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: args.type === "random:index/randomPassword:RandomPassword" ? { ...args.inputs, result: `generated-${args.name}` } : args.inputs,
      }),
      call: () => ({}),
    },
    PROJECT,
    "unit",
    false,
  );
  await import("../../components/register-tiers.js");
  Platform = (await import("../../components/platform.js")).BrokerPlatform;
});

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

async function redisBlock(stack: string, raw: Record<string, unknown>) {
  const platform = new Platform(`bp-${stack}`, { stage: parseStage(stack, { tiers: ["redis"], ...raw }) });
  const tier = platform.tiers.redis;
  if (tier === undefined) throw new Error("no redis tier built");
  return { value: (await valueOf(tier.endpoint)) as { url: string; replicas: number }, secret: await pulumi.isSecret(tier.endpoint) };
}

const SMOKE = { smoke: { image: "registry.example/smoke:1" } };

describe("redis endpoint", () => {
  it.each([
    ["dockerauth", { environment: "ci", target: "docker", redis: { replicas: 1 } }, "redis://default:generated-bp-dockerauth-redisPassword@127.0.0.1:6379/0", 1, true],
    ["dockeropen", { environment: "local", target: "docker", redis: { auth: { enabled: false } } }, "redis://127.0.0.1:6379/0", 0, false],
    ["dockerport", { environment: "ci", target: "docker", docker: { bindAddress: "127.0.0.2" }, redis: { hostPort: 16379, replicas: 2 } }, "redis://default:generated-bp-dockerport-redisPassword@127.0.0.2:16379/0", 2, true],
    ["kube", { environment: "staging", target: "kubernetes", redis: { replicas: 1 }, ...SMOKE }, "redis://default:generated-bp-kube-redisPassword@redis.botplatform-kube.svc.cluster.local:6379/0", 1, true],
    ["kubeopen", { environment: "dev", target: "kubernetes", kubernetes: { namespace: "bus" }, redis: { auth: { enabled: false } }, ...SMOKE }, "redis://redis.bus.svc.cluster.local:6379/0", 0, false],
  ])("stack %s: the URL of the primary, its replicas, secret exactly when it carries a password", async (stack, raw, url, replicas, secret) => {
    const block = await redisBlock(stack, raw);
    expect(block.value).toEqual({ url, replicas });
    expect(block.secret).toBe(secret);
  });

  it("uses the stack's own password when one is set, URL-encoded", async () => {
    pulumi.runtime.setAllConfig({ [`${PROJECT}:redisPassword`]: "p@ss w:rd" }, [`${PROJECT}:redisPassword`]);
    const block = await redisBlock("given", { environment: "ci", target: "docker" });
    expect(block.value.url).toBe("redis://default:p%40ss%20w%3Ard@127.0.0.1:6379/0");
    expect(block.secret).toBe(true);
  });
});
