/**
 * Removes everything of a stage from the engine, found by the label every resource of the kit carries
 * (`io.botplatform.stage`): containers (forced, with their anonymous volumes), then networks and named
 * volumes. `leftovers` says what is still there, so a test can prove nothing was left behind.
 */
import { DOCKER_LABEL_STAGE } from "../../components/targets/docker.js";
import { DockerEngine, EngineError } from "../docker-engine/client.js";

export interface StageResources {
  containers: string[];
  networks: string[];
  volumes: string[];
}

function labelFilter(stage: string): string {
  return JSON.stringify({ label: [`${DOCKER_LABEL_STAGE}=${stage}`] });
}

export async function leftovers(engine: DockerEngine, stage: string): Promise<StageResources> {
  const filters = labelFilter(stage);
  const [containers, networks, volumes] = await Promise.all([
    engine.json<{ Names: string[] }[]>({ method: "GET", path: "/containers/json", query: { all: true, filters } }),
    engine.json<{ Name: string }[]>({ method: "GET", path: "/networks", query: { filters } }),
    engine.json<{ Volumes: { Name: string }[] | null }>({ method: "GET", path: "/volumes", query: { filters } }),
  ]);
  return {
    containers: containers.map((c) => (c.Names[0] ?? "").replace(/^\//, "")).sort(),
    networks: networks.map((n) => n.Name).sort(),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort(),
  };
}

/** Ignores "already gone" (404) and "removal already in progress" (409): teardown may race itself. */
async function remove(engine: DockerEngine, path: string, query?: Record<string, boolean>): Promise<void> {
  try {
    await engine.call({ method: "DELETE", path, query });
  } catch (err) {
    if (!(err instanceof EngineError && (err.status === 404 || err.status === 409))) throw err;
  }
}

export async function teardownStage(engine: DockerEngine, stage: string): Promise<StageResources> {
  const found = await leftovers(engine, stage);
  await Promise.all(found.containers.map((name) => remove(engine, `/containers/${encodeURIComponent(name)}`, { force: true, v: true })));
  await Promise.all(found.networks.map((name) => remove(engine, `/networks/${encodeURIComponent(name)}`)));
  await Promise.all(found.volumes.map((name) => remove(engine, `/volumes/${encodeURIComponent(name)}`, { force: true })));
  return found;
}
