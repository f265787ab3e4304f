/** Reads the running stack's config (`botplatform-brokers:*`) into the raw shape `parseStage` takes. */
import * as pulumi from "@pulumi/pulumi";
import { parseStage, PROJECT, type Stage } from "./stage.js";

/** Pulumi hands structured config over as JSON text and plain strings as they are. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function stageFromPulumiConfig(): Stage {
  const prefix = `${PROJECT}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
  }
  return parseStage(pulumi.getStack(), raw);
}
