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
  options: Omit<ReadXmlOptions, 'root'> = {},
): AsyncGenerator<DmdRecord> {
  const stream = await file.open();
  try {
    for await (const raw of readDmdXml(stream, file.name, { ...options, root: DMD_ROOTS[file.kind] })) {
      yield toDmdRecord(file.kind, file.name, raw);
    }
  } finally {
    stream.destroy();
  }
}
