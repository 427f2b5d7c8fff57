/** The dm+d: import, store, search and FHIR views. The hub's index re-exports this. */
export { toDmdLookupParameters, toFhirMedication } from './fhir/index.js';
export { DMD_LOOKUP_OF, type DmdCodedValue, dmdCodedValues } from './lookup-fields.js';
export type {
  AmpDetail,
  AmppDetail,
  DmdConceptDetail,
  DmdConceptRef,
  DmdConceptType,
  DmdLookupResolver,
  DmdProductKind,
  DmdSearchEntry,
  VmpDetail,
  VmppDetail,
  VtmDetail,
} from './model.js';
export { DMD_CONCEPT_TYPES, dmdConceptRefOf, dmdMainRow } from './model.js';
export { readDmdFile } from './read-release.js';
export { type DmdRecord, LOOKUP_LISTS, type LookupList } from './records.js';
export { type DmdRelease, DmdReleaseError, type DmdReleaseFile, openDmdRelease } from './release-files.js';
export { buildDmdSearchIndex, measureSearchLatency, type SearchLatency } from './search/index.js';
export type { DmdSearchHit, DmdSearchIndex, DmdSearchOptions } from './search/types.js';
export {
  type DmdConceptView,
  type DmdSearchResult,
  DmdService,
  type DmdSnapshot,
} from './service.js';
export {
  DmdImportError,
  type DmdImportOptions,
  type DmdImportProgress,
  type DmdImportSummary,
  importDmdRelease,
} from './store/import-release.js';
export {
  activeDmdRelease,
  type DmdConceptLookup,
  type DmdMatch,
  DmdReader,
  type DmdReleaseInfo,
  listDmdReleases,
} from './store/read-dmd.js';
export {
  FULL_SIZE as DMD_FULL_SIZE,
  type GeneratedDmdRelease,
  generateDmdRelease,
} from './synthetic/index.js';
export { DmdFormatError, readDmdXml } from './xml-reader.js';
