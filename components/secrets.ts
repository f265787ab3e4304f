/**
 * Stage secrets: a secure value from the stack file when given, else a password generated once and
 * kept in the stack's state (no drift between deploys). Either way it stays a Pulumi secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PROJECT, type SECRET_KEYS } from "./stage.js";

export type SecretKey = (typeof SECRET_KEYS)[number];

/** 32 alphanumerics (~190 bits): no character needs escaping in a URL, a config file or a shell. */
const GENERATED_LENGTH = 32;

export function stageSecret(stack: string, key: SecretKey, parent: pulumi.Resource): pulumi.Output<string> {
  const given = new pulumi.Config(PROJECT).getSecret(key);
  if (given !== undefined) return given;
  const generated = new random.RandomPassword(`bp-${stack}-${key}`, { length: GENERATED_LENGTH, special: false }, { parent });
  return pulumi.secret(generated.result);
}
