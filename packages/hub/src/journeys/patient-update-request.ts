import type { JsonPatchOperation } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import { parseBoundedJson } from '../json-body.js';

/**
 * Validates a hub PATCH of a patient before anything is sent to PDS, with PDS's own statuses and
 * codes (`reference/specs/pds/specification/components/paths/patient-patch.yaml`) so a product
 * sees the same answer from the hub as from PDS. Business rules on what the patches change (which
 * fields, list ids, dates) stay with PDS: its answer is passed through.
 */
export interface RawPatientUpdate {
  ifMatch: string | string[] | undefined;
  contentType: string | undefined;
  /** The body as text (the hub parses it itself so bad JSON gets PDS's code, not Fastify's). */
  body: unknown;
}

export interface PatientUpdateRequest {
  /** The version from `If-Match: W/"<n>"`, digits only. */
  versionId: string;
  patches: JsonPatchOperation[];
}

/** personal-demographics.yaml `components.parameters.IfMatch.schema.pattern`. */
const IF_MATCH = /^W\/"([0-9]+)"$/;
/** PDS wants `application/json-patch+json`; `application/json` is accepted too (NHS's sandbox takes any `application/json…`). */
const ACCEPTED_MEDIA_TYPES = new Set(['application/json-patch+json', 'application/json']);
/** schemas/JsonPatch.yaml */
const OPS = new Set(['add', 'replace', 'remove', 'test']);

/** Parses and checks If-Match, Content-Type and the `{"patches": [...]}` body, in the order PDS checks them. */
export function parsePatientUpdate(raw: RawPatientUpdate): PatientUpdateRequest {
  const versionId = requireIfMatch(raw.ifMatch);
  requireContentType(raw.contentType);
  const patches = readPatches(parseJson(raw.body));
  return { versionId, patches };
}

function requireIfMatch(value: string | string[] | undefined): string {
  const given = Array.isArray(value) ? value[0] : value;
  if (given === undefined || given.trim() === '') {
    throw OperationOutcomeError.spine('PRECONDITION_FAILED', {
      diagnostics: 'Invalid request with error - If-Match header must be supplied to update this resource',
    });
  }
  const match = IF_MATCH.exec(given.trim());
  if (!match) {
    // patient-patch.yaml sandbox table: "If-Match header missing or set to format other than W/"<version>"" → 412.
    throw OperationOutcomeError.spine('PRECONDITION_FAILED', {
      diagnostics: 'Invalid request with error - If-Match header must be in the form W/"<version>"',
    });
  }
  return match[1] as string;
}

function requireContentType(value: string | undefined): void {
  const mediaType = value?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === undefined || !ACCEPTED_MEDIA_TYPES.has(mediaType)) {
    // patient-patch.yaml: wrong content type → 400; NHS's sandbox (patch-patient.js) codes it UNSUPPORTED_SERVICE.
    throw OperationOutcomeError.spine('UNSUPPORTED_SERVICE', {
      diagnostics: 'Invalid request with error - Content-Type must be application/json-patch+json',
    });
  }
}

function parseJson(body: unknown): unknown {
  if (typeof body !== 'string' || body.trim() === '') {
    throw OperationOutcomeError.spine('INVALID_UPDATE', {
      diagnostics: 'Invalid request with error - request body is empty',
    });
  }
  try {
    return parseBoundedJson(body);
  } catch (error) {
    if (error instanceof OperationOutcomeError) throw error;
    throw OperationOutcomeError.spine('INVALID_UPDATE', {
      diagnostics: 'Invalid request with error - request body is not valid JSON',
    });
  }
}

/** The wrapped body `{"patches": [...]}` (patient-patch.yaml requestBody); not a bare RFC 6902 array. */
function readPatches(body: unknown): JsonPatchOperation[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw noPatches();
  const { patches, ...rest } = body as { patches?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    const list = extra.map((key) => `'${key}'`).join(', ');
    throw OperationOutcomeError.spine('ADDITIONAL_PROPERTIES', {
      diagnostics: `Invalid request with error - Additional properties are not allowed (${list} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
    });
  }
  if (!Array.isArray(patches) || patches.length === 0) throw noPatches();
  patches.forEach((patch: unknown, i) => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw invalidValue(JSON.stringify(patch), String(i));
    }
    const { op, path } = patch as { op?: unknown; path?: unknown };
    if (op === undefined) throw missingValue(`${i}/op`);
    if (typeof op !== 'string' || !OPS.has(op)) throw invalidValue(String(op), `${i}/op`);
    if (path === undefined) throw missingValue(`${i}/path`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidValue(String(path), `${i}/path`);
    if (op !== 'remove' && !('value' in patch)) throw missingValue(`${i}/value`);
  });
  // Passed on as sent: PDS judges anything further (and any extra member of an operation).
  return patches as JsonPatchOperation[];
}

// Diagnostics in the words of NHS's sandbox (karate-tests/.../sandbox/patch-patient.js).
const noPatches = () =>
  OperationOutcomeError.spine('INVALID_UPDATE', {
    diagnostics: 'Invalid update with error - No patches found',
  });
const missingValue = (field: string) =>
  OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${field}'` });
const invalidValue = (value: string, field: string) =>
  OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${value}' in field '${field}'`,
  });
