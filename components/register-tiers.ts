/** Registers every implemented tier with the platform (one import line per tier). */
import "./redis/index.js";
import "./nats/index.js";
import "./kafka/index.js";
import "./rabbitmq/index.js";
