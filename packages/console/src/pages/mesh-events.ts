/*
 * MESH message history in words. The hub records each event with a short machine-made detail
 * (packages/hub/src/mesh/message-log.ts, mesh-service.ts); these turn both into what a person
 * running the hub reads. Anything not recognised is shown as the hub wrote it.
 */

/** The events of the hub's message log (MESH_EVENT_TYPES), in words. */
export const MESH_EVENT_NAMES: Readonly<Record<string, string>> = {
  queued: 'Queued',
  sending: 'Sending',
  'chunk-sent': 'Chunk accepted',
  resuming: 'Resuming the upload',
  restarting: 'Restarting the upload',
  sent: 'Sent',
  'found-by-local-id': 'Found in MESH by local id',
  'not-found-by-local-id': 'Not in MESH: sending again',
  delivered: 'Delivered',
  acknowledged: 'Acknowledged by the recipient',
  failed: 'Failed',
  'tracking-stopped': 'Tracking stopped',
  received: 'Received',
  stored: 'Stored',
  'acked-to-mesh': 'Acknowledged to MESH',
  handled: 'Handled',
  report: 'Report',
};

/** "Chunk accepted" for "chunk-sent"; an unknown event as itself with the hyphens as spaces. */
export function meshEventName(event: string): string {
  const known = MESH_EVENT_NAMES[event];
  if (known) return known;
  const words = event.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const bytes = (n: string) => Number(n).toLocaleString('en-GB');

// mesh-service.ts recordChunk: "chunk 3/10 sent, 300 of 1000 bytes[, MESH message <id>]".
const CHUNK_SENT = /^chunk (\d+)\/(\d+) sent, (\d+) of (\d+) bytes(?:, MESH message (\S+))?$/;
// mesh-service.ts send, on a retry that resumes: "attempt 2: MESH message <id> from chunk 4[ of 10]".
const RESUMING = /^attempt (\d+): MESH message (\S+) from chunk (\d+)(?: of (\d+))?$/;

/**
 * An event's detail in words: chunk uploads and resumed uploads spelt out, others as recorded.
 *
 * @example
 * meshEventDetail('chunk-sent', 'chunk 2/5 sent, 40000 of 90000 bytes');
 * // "Chunk 2 of 5 accepted by MESH (40,000 of 90,000 bytes uploaded)"
 */
export function meshEventDetail(event: string, detail: string | null): string | null {
  if (detail === null) return null;
  if (event === 'chunk-sent') {
    const m = CHUNK_SENT.exec(detail);
    if (m) {
      const [, chunk, chunks, sent, total, messageId] = m;
      const text = `Chunk ${chunk} of ${chunks} accepted by MESH (${bytes(sent ?? '')} of ${bytes(total ?? '')} bytes uploaded)`;
      return messageId ? `${text}; MESH message id ${messageId}` : text;
    }
  }
  if (event === 'resuming') {
    const m = RESUMING.exec(detail);
    if (m) {
      const [, attempt, messageId, from, chunks] = m;
      return `Attempt ${attempt}: going on with MESH message ${messageId} from chunk ${from}${chunks ? ` of ${chunks}` : ''}, the chunks before it already accepted`;
    }
  }
  return detail.charAt(0).toUpperCase() + detail.slice(1);
}

/** "3 of 10 sent" for an outbound chunked message; null when it is not one. */
export function chunkProgress(m: {
  direction: string;
  chunks: number | null;
  chunksSent?: number | null;
}): string | null {
  if (m.direction !== 'outbound' || m.chunks === null || m.chunks <= 1) return null;
  return `${m.chunksSent ?? 0} of ${m.chunks} sent`;
}
