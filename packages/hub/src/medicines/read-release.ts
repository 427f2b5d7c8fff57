import { DMD_ROOTS, type DmdRecord, toDmdRecord } from './records.js';
import type { DmdReleaseFile } from './release-files.js';
import { type ReadXmlOptions, readDmdXml } from './xml-reader.js';

/**
 * Streams the typed records of one release file, checking its root element and every row
 * against the XSD shapes. Errors are {@link DmdFormatError}s naming the file and line.
 *
 * @example
 * const release = await openDmdRelease(folder);
 * for (const file of release.files) for await (const rec of readDmdFile(file)) store(rec);
 */
export async function* readDmdFile(
  file: DmdReleaseFile,
  options: Omit<ReadXmlOptions, 'root'> & { onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<DmdRecord> {
  const { onBytes, ...xmlOptions } = options;
  const stream = await file.open();
  const input = onBytes ? counted(stream, onBytes) : stream;
  try {
    for await (const raw of readDmdXml(input, file.name, { ...xmlOptions, root: DMD_ROOTS[file.kind] })) {
      yield toDmdRecord(file.kind, file.name, raw);
    }
  } finally {
    stream.destroy();
  }
}

/** Passes chunks through, reporting their size (progress without a second pipe). */
async function* counted(
  source: AsyncIterable<Uint8Array | string>,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Uint8Array | string> {
  for await (const chunk of source) {
    onBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    yield chunk;
  }
}
