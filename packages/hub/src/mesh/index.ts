export type { MeshMailboxConfig, MeshTlsFiles } from '../config/load-config.js';
export { type MeshClientForOptions, meshClientFor } from './mesh-client-port.js';
export {
  chunkEventDue,
  MAX_CHUNK_EVENTS,
  type MeshInboundHandler,
  type MeshLogEvent,
  type MeshPort,
  MeshService,
  type MeshServiceOptions,
  type MeshStatusHandler,
} from './mesh-service.js';
export {
  getMeshMessage,
  type ListMeshMessagesOptions,
  listMeshEvents,
  listMeshMessages,
  MAX_STORED_SEND_BYTES,
  MESH_DIRECTIONS,
  MESH_EVENT_TYPES,
  MESH_MESSAGE_STATUSES,
  type MeshDirection,
  type MeshEventType,
  MeshLogError,
  type MeshMessage,
  type MeshMessageBody,
  type MeshMessageEvent,
  type MeshMessageStatus,
  type MeshMessageWithEvents,
  readMeshMessageBody,
  type SendMeshMessageInput,
  sendMeshMessage,
} from './message-log.js';
