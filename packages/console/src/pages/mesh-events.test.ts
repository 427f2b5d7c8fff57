import { describe, expect, it } from 'vitest';
import { chunkProgress, MESH_EVENT_NAMES, meshEventDetail, meshEventName } from './mesh-events';

describe('MESH message history in words', () => {
  it('names every event of the hub message log, and an unknown one from its words', () => {
    // MESH_EVENT_TYPES of packages/hub/src/mesh/message-log.ts
    const hubEvents = [
      'queued',
      'sending',
      'chunk-sent',
      'resuming',
      'restarting',
      'sent',
      'found-by-local-id',
      'not-found-by-local-id',
      'delivered',
      'acknowledged',
      'failed',
      'tracking-stopped',
      'received',
      'stored',
      'acked-to-mesh',
      'handled',
      'report',
    ];
    expect(Object.keys(MESH_EVENT_NAMES).sort()).toEqual([...hubEvents].sort());
    expect(meshEventName('chunk-sent')).toBe('Chunk accepted');
    expect(meshEventName('restarting')).toBe('Restarting the upload');
    expect(meshEventName('something-new')).toBe('Something new');
  });

  it('spells out chunk uploads (mesh-service recordChunk detail), with the MESH id on chunk 1', () => {
    expect(
      meshEventDetail('chunk-sent', 'chunk 1/4 sent, 20000000 of 70000000 bytes, MESH message 20251125-ABC'),
    ).toBe(
      'Chunk 1 of 4 accepted by MESH (20,000,000 of 70,000,000 bytes uploaded); MESH message id 20251125-ABC',
    );
    expect(meshEventDetail('chunk-sent', 'chunk 3/4 sent, 60000000 of 70000000 bytes')).toBe(
      'Chunk 3 of 4 accepted by MESH (60,000,000 of 70,000,000 bytes uploaded)',
    );
  });

  it('spells out a resumed upload, and leaves other details as the hub wrote them', () => {
    expect(meshEventDetail('resuming', 'attempt 2: MESH message 20251125-ABC from chunk 3 of 4')).toBe(
      'Attempt 2: going on with MESH message 20251125-ABC from chunk 3 of 4, the chunks before it already accepted',
    );
    const restart =
      'MESH no longer has the incomplete message 20251125-ABC (410); the next attempt sends it anew';
    expect(meshEventDetail('restarting', restart)).toBe(restart);
    expect(meshEventDetail('sending', 'attempt 1')).toBe('Attempt 1');
    expect(meshEventDetail('chunk-sent', 'an unexpected shape')).toBe('An unexpected shape');
    expect(meshEventDetail('queued', null)).toBeNull();
  });

  it('shows chunks sent of chunks for outbound chunked messages only', () => {
    expect(chunkProgress({ direction: 'outbound', chunks: 4, chunksSent: 3 })).toBe('3 of 4 sent');
    expect(chunkProgress({ direction: 'outbound', chunks: 4, chunksSent: null })).toBe('0 of 4 sent');
    expect(chunkProgress({ direction: 'outbound', chunks: 1, chunksSent: 1 })).toBeNull();
    expect(chunkProgress({ direction: 'inbound', chunks: 4, chunksSent: null })).toBeNull();
    expect(chunkProgress({ direction: 'outbound', chunks: null })).toBeNull();
  });
});
