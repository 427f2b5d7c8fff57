import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CHUNK, escapeXml, row, XmlFileWriter } from './xml-file-writer.js';

describe('XmlFileWriter', () => {
  it('waits for drain: a slow destination never has more than a couple of chunks pending', async () => {
    let pulled = 0;
    let written = 0;
    let maxAhead = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          written += chunk.length;
          callback();
        }, 1);
      },
    });
    const line = `${'x'.repeat(99)}\n`;
    function* source() {
      for (let i = 0; i < 40_000; i++) {
        pulled += line.length;
        maxAhead = Math.max(maxAhead, pulled - written);
        yield line;
      }
    }
    await new XmlFileWriter(slow).writeAll(source());
    expect(written).toBe(40_000 * line.length);
    // Without honouring 'drain' the synchronous source would be drained at once (4 MB ahead).
    expect(maxAhead).toBeLessThanOrEqual(2 * CHUNK + line.length);
  });

  it('escapes text and omits absent fields', () => {
    expect(escapeXml('A & B <c>')).toBe('A &amp; B &lt;c&gt;');
    expect(
      row('AMP', '  ', [
        ['APID', '1'],
        ['INVALID', undefined],
        ['NM', 'Smith & Co'],
      ]),
    ).toBe('  <AMP>\n    <APID>1</APID>\n    <NM>Smith &amp; Co</NM>\n  </AMP>\n');
  });
});
