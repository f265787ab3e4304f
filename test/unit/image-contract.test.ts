/**
 * The image contract holds for what the Docker stages actually run: every container's image has a
 * contract, its data volume sits on the contract's data dir, an explicit user is the contract's uid,
 * and the program each command and health check starts is one the contract promises. A tier that
 * starts relying on something else of an image fails here, before the e2e replay.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { contractOf, IMAGE_CONTRACTS, type ImageContract } from "../../components/targets/image-contract.js";
import type { PlannedResource } from "../../tools/plan/capture.js";
import { ofType, planStage } from "../harness/plan.js";

const DOCKER_STAGES = ["local", "dev", "ci"];

interface ContainerInputs {
  name: string;
  image: string;
  command?: string[];
  entrypoints?: string[];
  user?: string;
  volumes?: { containerPath: string }[];
  healthcheck?: { tests: string[] };
}

const plans = new Map<string, PlannedResource[]>();
beforeAll(async () => {
  await Promise.all(DOCKER_STAGES.map(async (stage) => plans.set(stage, await planStage(stage))));
}, 120_000);

function containers(stage: string): { inputs: ContainerInputs; contract: ImageContract | undefined }[] {
  return ofType(plans.get(stage)!, "docker:index/container:Container").map((r) => {
    const inputs = r.inputs as unknown as ContainerInputs;
    const key = contractOf(inputs.image);
    return { inputs, contract: key && IMAGE_CONTRACTS[key] };
  });
}

function promised(contract: ImageContract, program: string | undefined): boolean {
  return program !== undefined && (contract.programs as readonly string[]).includes(program);
}

describe.each(DOCKER_STAGES)("%s", (stage) => {
  it("runs only images the contract covers", () => {
    const list = containers(stage);
    expect(list.length).toBeGreaterThan(0);
    expect(list.filter((c) => c.contract === undefined).map((c) => c.inputs.image)).toEqual([]);
  });

  it("mounts data volumes on the contract's data dir, as the contract's user", () => {
    for (const { inputs, contract } of containers(stage)) {
      for (const volume of inputs.volumes ?? []) expect(volume.containerPath, inputs.name).toBe(contract!.dataDir);
      if (inputs.user !== undefined) expect(Number(inputs.user.split(":")[0]), inputs.name).toBe(contract!.user.uid);
    }
  });

  it("starts commands and health checks with programs the contract promises", () => {
    const unpromised: string[] = [];
    for (const { inputs, contract } of containers(stage)) {
      const first = inputs.entrypoints?.[0] ?? inputs.command?.[0];
      if (!promised(contract!, first)) unpromised.push(`${inputs.name} command: ${first}`);
      const tests = inputs.healthcheck?.tests;
      if (tests !== undefined) {
        const program = tests[0] === "CMD-SHELL" ? "sh" : tests[1];
        if (!promised(contract!, program)) unpromised.push(`${inputs.name} health check: ${program}`);
      }
    }
    expect(unpromised).toEqual([]);
  });
});
