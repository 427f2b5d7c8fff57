/** `@junction/client/mesh`: the MESH client alone, for callers that need only it (the CLI's `mesh` commands load this, not every API's client). */
export {
  MESH_AUTH_SCHEME,
  type MeshAuthorizationInput,
  meshAuthorization,
  meshTimestamp,
} from './auth.js';
export type { MeshBody, MeshFileBody } from './chunks.js';
export { MeshError, type MeshErrorDetail } from './errors.js';
export { MeshClient } from './mesh-client.js';
export { MESH_V2_JSON, type MeshRetryMode } from './transport.js';
export {
  MESH_DEFAULT_CHUNK_SIZE,
  MESH_MAX_REQUEST_BYTES,
  type MeshClientOptions,
  type MeshInboxOptions,
  type MeshMailboxMatch,
  type MeshMessageMetadata,
  type MeshReceived,
  type MeshReceiveOptions,
  type MeshReceiveProgress,
  type MeshSendProgress,
  type MeshSendRequest,
  type MeshSendResult,
  type MeshTlsOptions,
  type MeshTracking,
} from './types.js';
