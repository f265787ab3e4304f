/**
 * Finds the Pulumi CLI: the one on PATH, else a pinned version installed once into `.cache/pulumi`
 * (through the Automation API's own installer, which downloads Pulumi's release).
 */
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { resolve } from "node:path";
import * as semver from "semver";

/** The CLI version installed when none is on PATH; matches the @pulumi/pulumi SDK in package.json. */
export const PINNED_PULUMI_VERSION = "3.276.0";
export const PULUMI_CACHE_DIR = resolve(__dirname, "..", ".cache", "pulumi");

export interface PulumiCliLocator {
  /** The CLI on PATH (or in the cache), or undefined. */
  find(): Promise<PulumiCommand | undefined>;
  install(): Promise<PulumiCommand>;
}

export const defaultLocator: PulumiCliLocator = {
  async find() {
    for (const root of [undefined, PULUMI_CACHE_DIR]) {
      try {
        return await PulumiCommand.get({ root, skipVersionCheck: true });
      } catch {
        // Not there: try the next place.
      }
    }
    return undefined;
  },
  install: () => PulumiCommand.install({ root: PULUMI_CACHE_DIR, version: new semver.SemVer(PINNED_PULUMI_VERSION) }),
};

export async function pulumiCommand(locator: PulumiCliLocator, log: (line: string) => void): Promise<PulumiCommand> {
  const found = await locator.find();
  if (found) return found;
  log(`pulumi CLI not found on PATH; installing ${PINNED_PULUMI_VERSION} into ${PULUMI_CACHE_DIR}`);
  return locator.install();
}
