export {
  ADMIN_PASSWORD_MAX_LENGTH,
  ADMIN_PASSWORD_MIN_LENGTH,
  AdminAccountError,
  type AdminAccountInfo,
  type AdminAccountInput,
  createAdminAccount,
  disableAdminAccount,
  listAdminAccounts,
  randomAdminPassword,
  resetAdminAccount,
} from './access/admin-accounts.js';
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
export {
  type Authentication,
  authenticate,
  type DelegationsFor,
  SESSION_COOKIE,
} from './access/authenticate.js';
export {
  ACCESS_ACTIONS,
  type AccessAction,
  type AccessRequest,
  type ActingFor,
  ADMIN_ACTIONS,
  type AdminPrincipal,
  type ApiKeyPrincipal,
  allowedActions,
  type ClinicianPrincipal,
  type Decision,
  decide,
  type IdentityProofingLevel,
  jobRoleOf,
  type PatientPrincipal,
  PROXY_ACCESS,
  PROXY_ACCESS_KINDS,
  type Principal,
  type ProxyAccess,
  type ProxyDelegation,
  ROLE_ACTIONS,
} from './access/policy.js';
export {
  activeDelegationsFor,
  type GrantProxyDelegationInput,
  grantProxyDelegation,
  listProxyDelegations,
  PROXY_RELATIONSHIPS,
  ProxyDelegationError,
  type ProxyDelegationInfo,
  type ProxyRelationship,
  revokeProxyDelegation,
} from './access/proxy-delegations.js';
export {
  type ActiveSession,
  type CreatedSession,
  type CreateSessionInput,
  createSession,
  findSession,
  revokeSession,
  type SessionInfo,
  type SessionLookup,
  type SessionPrincipal,
} from './access/sessions.js';
export type { Cis2Port, NhsLoginPort } from './api/auth-routes.js';
export type { HubRoute } from './api/build-app.js';
export { appendAuditEvent } from './audit/append-audit-event.js';
export {
  type AuditCheckpoint,
  AuditCheckpointError,
  type AuditCheckpointVerification,
  auditCheckpointPublicKey,
  createAuditCheckpoint,
  loadAuditCheckpointKey,
  verifyAuditCheckpoint,
} from './audit/audit-checkpoint.js';
export type {
  AuditAction,
  AuditActor,
  AuditActorKind,
  AuditEventInput,
  AuditOutcome,
  AuditRecord,
  PrincipalKind,
} from './audit/audit-hash.js';
export { type ListAuditEventsOptions, listAuditEvents } from './audit/list-audit-events.js';
export { type AuditChainVerification, verifyAuditChain } from './audit/verify-audit-chain.js';
export { createDataDir } from './config/data-dir.js';
export {
  ConfigError,
  ENV_VARS,
  type HubConfig,
  type LogLevel,
  loadConfig,
  type NhsEnvironment,
  type OidcProviderConfig,
} from './config/load-config.js';
export { createHub, type Hub, type HubDeps } from './create-hub.js';
export { HubJobs } from './jobs/hub-jobs.js';
export * from './jobs/index.js';
export type { PdsPort } from './journeys/patient-lookup.js';
export * from './journeys/submit-readings/index.js';
export * from './medicines/index.js';
export * from './mesh/index.js';
export { createLogger, REDACT_PATHS } from './observability/logger.js';
export type { Database, Store, StoreDialect } from './store/database.js';
export { isPostgresUrl, type OpenStoreOptions, openStore } from './store/open-store.js';
