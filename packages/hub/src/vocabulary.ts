/*
 * The hub's fixed names and lists that a caller uses without running a hub (the CLI lists them in
 * its help and option choices, and finds the data folder with them), published alone as
 * `@junction/hub/vocabulary`: every module re-exported here loads no store, server or database
 * driver, so importing this costs milliseconds where the hub's main entry costs seconds. Each stays
 * defined beside the code that enforces it.
 */

export { API_KEY_SCOPES, type ApiKeyScope, DEFAULT_API_KEY_SCOPES } from './access/api-keys.js';
export { PROXY_ACCESS, PROXY_ACCESS_KINDS, type ProxyAccess } from './access/policy.js';
export { PROXY_RELATIONSHIPS, type ProxyRelationship } from './access/proxy-relationships.js';
export { DEFAULT_DATA_DIR } from './config/data-dir.js';
export { JOB_STATUSES, type JobStatus } from './jobs/job-status.js';
