/**
 * Wires the topics init script into the lead's one-shot init task (`targets/task.ts`): a container on
 * Docker, a Job on Kubernetes, run with the Kafka image once the nodes are up. The script and the
 * client properties (which hold the password with SASL on) are the task's files.
 */
import * as pulumi from "@pulumi/pulumi";
import { initTask, INIT_TASK_FILES_DIR } from "../targets/task.js";
import type { Target } from "../tiers.js";
import { renderClientProperties } from "./config.js";
import { KAFKA_IMAGE_UID, type KafkaModel } from "./model.js";
import { renderTopicsScript } from "./topics-script.js";

export function kafkaTopicsTask(target: Target, model: KafkaModel, password: pulumi.Output<string> | undefined, dependsOn: pulumi.Resource[], parent: pulumi.Resource): pulumi.Resource {
  const script = renderTopicsScript({
    topics: model.topics,
    bootstrap: model.inTargetBootstrap,
    binDir: model.paths.binDir,
    commandConfig: `${INIT_TASK_FILES_DIR}/client.properties`,
  });
  const clientProperties = password ? pulumi.secret(password.apply((p) => renderClientProperties(model, p))) : renderClientProperties(model);
  return initTask(
    {
      target,
      tier: "kafka",
      role: "kafka-topics",
      image: model.image,
      command: ["sh", `${INIT_TASK_FILES_DIR}/topics.sh`],
      files: { "topics.sh": script, "client.properties": clientProperties },
      runAsUser: KAFKA_IMAGE_UID,
      dependsOn,
    },
    parent,
  );
}
