/**
 * The Pulumi program: read and validate the stage from `stacks/Pulumi.<stack>.yaml`, build the
 * BrokerPlatform on its target, export the endpoints contract for the smoke checks.
 */
import * as pulumi from "@pulumi/pulumi";
import "./components/register-tiers.js";
import { StageValidationError } from "./components/errors/stage-validation-error.js";
import { BrokerPlatform } from "./components/platform.js";
import { stageFromPulumiConfig } from "./components/stage-config.js";

function loadStage() {
  try {
    return stageFromPulumiConfig();
  } catch (error) {
    // A config mistake is the user's to fix: say what is wrong, without a stack trace.
    if (error instanceof StageValidationError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

const stage = loadStage();
const platform = new BrokerPlatform(`bp-${stage.name}`, { stage });

/** The endpoints contract, version 1; a secret as a whole because its URLs carry passwords. */
export const endpoints = pulumi.secret(platform.endpoints);
export const tiers = stage.tiers;
export const target = stage.target;
