/** What a stage can say about its Kafka (KRaft) tier. */
import { z } from "zod";
import { authSettings, hostPort, imageSetting, resourceSettings, storageSettings } from "../settings-common.js";

export const kafkaSettings = z.strictObject({
  /** Apache Kafka version (image tag of `apache/kafka`). @default "4.1.1" */
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "must be a version like `4.1.1`").default("4.1.1"),
  image: imageSetting,
  /** Broker count. @default 3 */
  brokers: z.number().int().min(1).max(30).default(3),
  /** 0 runs combined broker+controller nodes; 3 adds dedicated controllers for larger clusters. @default 0 */
  controllers: z.union([z.literal(0), z.literal(3)]).default(0),
  /** Default replication factor of topics. @default min(3, brokers) */
  replicationFactor: z.number().int().min(1).optional(),
  /** `min.insync.replicas`. @default 2 when the replication factor is 3 or more, else 1 */
  minInsyncReplicas: z.number().int().min(1).optional(),
  storage: storageSettings.prefault({}),
  resources: resourceSettings.prefault({ memory: "1Gi" }),
  /** SASL/SCRAM-SHA-512 for clients. */
  auth: authSettings.prefault({}),
  /** Docker only: host port of broker 0's external listener; broker i publishes `hostPort + i`. @default 19092 */
  hostPort: hostPort.default(19092),
});

export type KafkaSettings = z.infer<typeof kafkaSettings>;
