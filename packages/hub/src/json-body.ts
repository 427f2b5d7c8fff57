import { OperationOutcomeError } from '@junction/core';

/**
 * How deep a JSON request body may nest. FHIR R4 resources are far shallower (a Bundle of
 * Observations with codings, extensions and contained resources stays below 15 levels, and a PDS
 * PATCH `{"patches":[{"value":…}]}` below 10), while a body nested thousands deep makes recursive
 * code further on (validation, serialisation towards an NHS API) overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON request body, first refusing one nested deeper than `MAX_JSON_DEPTH` with a 400
 * OperationOutcome (issue type `invalid`, http://hl7.org/fhir/R4/valueset-issue-type.html) that
 * names the bound and never echoes the body. Syntax errors are thrown as `JSON.parse` throws them,
 * for the caller to answer in its own words. Size is bounded before this, by Fastify's `bodyLimit`.
 *
 * @example
 * parseBoundedJson('{"patches":[]}'); // { patches: [] }
 * parseBoundedJson('['.repeat(10_000)); // throws OperationOutcomeError 400 invalid
 */
export function parseBoundedJson(text: string): unknown {
  assertJsonDepth(text);
  return JSON.parse(text);
}

/** Throws the 400 OperationOutcome of `parseBoundedJson` when `text` nests deeper than `MAX_JSON_DEPTH`. */
export function assertJsonDepth(text: string): void {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw tooDeep();
}

function tooDeep(): OperationOutcomeError {
  return new OperationOutcomeError(400, {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`,
      },
    ],
  });
}

/**
 * Whether `[` / `{` nest deeper than `max` outside string literals: one pass, no recursion, so it
 * cannot itself overflow. Run on text that may not be valid JSON; it only counts brackets.
 */
function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
