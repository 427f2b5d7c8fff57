export {
  API_KEY_SCOPES,
  type ApiKeyInfo,
  type ApiKeyScope,
  type CreateApiKeyInput,
  type CreatedApiKey,
  createApiKey,
  DEFAULT_API_KEY_SCOPES,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
} from './access/api-keys.js';
export { appendAuditEvent } from './audit/append-audit-event.js';
export type { AuditAction, AuditEventInput, AuditOutcome, AuditRecord } from './audit/audit-hash.js';
export { type ListAuditEventsOptions, listAuditEvents } from './audit/list-audit-events.js';
export { type AuditChainVerification, verifyAuditChain } from './audit/verify-audit-chain.js';
export {
  ConfigError,
  ENV_VARS,
  type HubConfig,
  type LogLevel,
  loadConfig,
  type NhsEnvironment,
} from './config/load-config.js';
export { createHub, type Hub, type HubDeps } from './create-hub.js';
export type { PdsPort } from './journeys/patient-lookup.js';
export { createLogger, REDACT_PATHS } from './observability/logger.js';
export type { Database, Store, StoreDialect } from './store/database.js';
export { isPostgresUrl, type OpenStoreOptions, openStore } from './store/open-store.js';
