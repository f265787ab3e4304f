/**
 * kafkajs 2.2.4 (its last release) schedules its request-queue check with `throttledUntil - now` even
 * when it is not throttled (`throttledUntil` is -1), a negative delay. Node treats it as 1 ms but, from
 * Node 23 on, also prints `TimeoutNegativeWarning` to stderr, which then shows in every smoke run
 * where a broker is down. This replaces that one method with the same logic and a delay of at least
 * 1 ms: the behaviour Node already gave it, without the warning. Imported for its effect, once.
 */
import { createRequire } from "node:module";

/** kafkajs's own constant for re-checking pending requests (src/network/requestQueue). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const MIN_TIMEOUT_MS = 1;

interface RequestQueueState {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const RequestQueue = createRequire(__filename)("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueueState };

if (typeof RequestQueue.prototype.scheduleCheckPendingRequests === "function") {
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueState): void {
    let scheduleAt = this.throttledUntil - Date.now();
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
      this.throttleCheckTimeoutId = setTimeout(() => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      }, Math.max(MIN_TIMEOUT_MS, scheduleAt));
    }
  };
}
