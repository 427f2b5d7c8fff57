import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { type IssueSeverity, type IssueType, SYSTEMS } from './fhir.js';

export interface SpineErrorDefinition {
  /** The HTTP status NHS APIs answer with for this code. */
  status: number;
  issueType: IssueType;
  severity: IssueSeverity;
  display: string;
}

/**
 * The NHS `Spine-ErrorOrWarningCode` catalogue (version 1) as PDS FHIR R4 uses it: status, FHIR
 * issue type and display are those of the published PDS spec and its canned responses
 * (`personal-demographics-service-api` karate stubs, `errorResponses/*.json`). A code is never reused.
 */
export const SPINE_ERRORS = {
  ACCESS_DENIED: { status: 403, issueType: 'forbidden', severity: 'error', display: 'Access denied' },
  ADDITIONAL_PROPERTIES: {
    status: 400,
    issueType: 'invariant',
    severity: 'error',
    display: 'Additional properties should not be included',
  },
  FORBIDDEN_UPDATE: {
    status: 403,
    issueType: 'forbidden',
    severity: 'error',
    display: 'Update is forbidden',
  },
  INVALID_METHOD: { status: 403, issueType: 'forbidden', severity: 'error', display: 'Invalid method' },
  INVALIDATED_RESOURCE: {
    status: 404,
    issueType: 'processing',
    severity: 'error',
    display: 'Resource that has been marked as invalid was requested - invalid resources cannot be retrieved',
  },
  INVALID_CREATE: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Patient create data is invalid',
  },
  INVALID_RESOURCE_ID: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Resource Id is invalid',
  },
  INVALID_SEARCH_DATA: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Search data is invalid',
  },
  INVALID_UPDATE: { status: 400, issueType: 'structure', severity: 'error', display: 'Update is invalid' },
  INVALID_VALUE: { status: 400, issueType: 'value', severity: 'error', display: 'Provided value is invalid' },
  MISSING_VALUE: {
    status: 400,
    issueType: 'required',
    severity: 'error',
    display: 'Required value is missing',
  },
  MULTIPLE_MATCHES: { status: 200, issueType: 'value', severity: 'error', display: 'Multiple matches found' },
  PRECONDITION_FAILED: {
    status: 412,
    issueType: 'structure',
    severity: 'error',
    display: 'Required condition was not fulfilled',
  },
  RESOURCE_NOT_FOUND: {
    status: 404,
    issueType: 'not-found',
    severity: 'information',
    display: 'Resource not found',
  },
  RESOURCE_VERSION_MISMATCH: {
    status: 409,
    issueType: 'conflict',
    severity: 'error',
    display: 'Resource version supplied does not match actual version',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    issueType: 'transient',
    severity: 'error',
    display: 'Service unavailable',
  },
  SINGLE_MATCH: { status: 200, issueType: 'value', severity: 'error', display: 'Single match found' },
  TOO_FEW_VALUES_SUBMITTED: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Too few values submitted',
  },
  TOO_MANY_MATCHES: {
    status: 200,
    issueType: 'multiple-matches',
    severity: 'information',
    display: 'Too Many Matches',
  },
  TOO_MANY_REQUESTS: { status: 429, issueType: 'throttled', severity: 'error', display: 'Too many requests' },
  TOO_MANY_VALUES_SUBMITTED: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Too many values submitted',
  },
  UNABLE_TO_CALL_SERVICE: {
    status: 408,
    issueType: 'timeout',
    severity: 'error',
    display: 'Unable to call service',
  },
  UNSUPPORTED_CHARACTERS_IN_FIELD: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'Unsupported characters in field',
  },
  UNSUPPORTED_SERVICE: {
    status: 400,
    issueType: 'processing',
    severity: 'error',
    display: 'Unsupported Service',
  },
  // The API platform proxy's answer to a path PDS does not have
  // (personal-demographics-service-api proxies/live/apiproxy/policies/AssignMessage.Errors.UnsupportedRequest.xml).
  UNSUPPORTED_REQUEST: {
    status: 400,
    issueType: 'value',
    severity: 'error',
    display: 'The request is not one that is supported.',
  },
  UNSUPPORTED_VALUE: { status: 400, issueType: 'value', severity: 'error', display: 'Unsupported value' },
  VALIDATION_ERROR: { status: 400, issueType: 'invalid', severity: 'error', display: 'Validation error' },
  // Not a Spine code: what Junction itself answers when something inside it failed.
  INTERNAL_SERVER_ERROR: {
    status: 500,
    issueType: 'exception',
    severity: 'fatal',
    display: 'Internal server error',
  },
} as const satisfies Record<string, SpineErrorDefinition>;

export type SpineErrorCode = keyof typeof SPINE_ERRORS;

export interface SpineErrorOptions {
  /** Overrides the catalogue status where one code is used with several (ACCESS_DENIED is 401 or 403). */
  status?: number;
  diagnostics?: string;
  /** FHIRPath of the offending element, e.g. `Patient.name.given`. */
  expression?: string;
  /**
   * Overrides the catalogue display where NHS words it per context, e.g. ACCESS_DENIED as
   * `Access Denied - Unauthorised` (401) or INVALID_METHOD as `Cannot update resource with … access token`.
   */
  display?: string;
}

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The one error currency of Junction: carries the OperationOutcome to answer with and the HTTP
 * status, converted to a response at the edge (sandbox, hub) and parsed back by the client.
 */
export class OperationOutcomeError extends Error {
  override readonly name = 'OperationOutcomeError';
  readonly status: number;
  readonly outcome: OperationOutcome;
  /**
   * Raised by Junction itself before or outside any exchange with a remote service (a body that
   * cannot be serialised, a header value that is not legal): sending again cannot help, and the
   * remote service must not be counted as failing for it. False for answers of, and failures to
   * reach, a remote service.
   */
  readonly local: boolean;

  constructor(status: number, outcome: OperationOutcome, options?: { cause?: unknown; local?: boolean }) {
    super(summariseOutcome(outcome), options && 'cause' in options ? { cause: options.cause } : undefined);
    this.status = status;
    this.outcome = outcome;
    this.local = options?.local ?? false;
  }

  /**
   * An error with one issue coded from the Spine catalogue.
   * @example throw OperationOutcomeError.spine('INVALID_RESOURCE_ID', { diagnostics: 'Invalid NHS number' })
   */
  static spine(code: SpineErrorCode, options: SpineErrorOptions = {}): OperationOutcomeError {
    const definition: SpineErrorDefinition = SPINE_ERRORS[code];
    return new OperationOutcomeError(options.status ?? definition.status, spineOutcome(code, options));
  }

  /** The first issue's Spine code (e.g. `INVALID_RESOURCE_ID`), if it has one. */
  get code(): string | undefined {
    return spineCodeOf(this.outcome);
  }

  /** Whether sending the same request again may succeed (throttling, timeouts, server faults); never for a local error. */
  get retryable(): boolean {
    return !this.local && RETRYABLE_STATUSES.has(this.status);
  }
}

/** An OperationOutcome with one issue coded from the Spine catalogue. */
export function spineOutcome(
  code: SpineErrorCode,
  options: Omit<SpineErrorOptions, 'status'> = {},
): OperationOutcome {
  const definition: SpineErrorDefinition = SPINE_ERRORS[code];
  const issue: OperationOutcomeIssue = {
    severity: definition.severity,
    code: definition.issueType,
    details: {
      coding: [
        {
          system: SYSTEMS.spineErrorOrWarningCode,
          version: '1',
          code,
          display: options.display ?? definition.display,
        },
      ],
    },
  };
  if (options.diagnostics !== undefined) issue.diagnostics = options.diagnostics;
  if (options.expression !== undefined) issue.expression = [options.expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** The Spine code of an outcome's first issue that carries one. */
export function spineCodeOf(outcome: OperationOutcome): string | undefined {
  for (const issue of outcome.issue ?? []) {
    const coding =
      issue.details?.coding?.find((c) => c.system === SYSTEMS.spineErrorOrWarningCode) ??
      issue.details?.coding?.[0];
    if (coding?.code) return coding.code;
  }
  return undefined;
}

/** True when `value` looks like a FHIR OperationOutcome (used when parsing responses). */
export function isOperationOutcome(value: unknown): value is OperationOutcome {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { resourceType?: unknown }).resourceType === 'OperationOutcome' &&
    Array.isArray((value as { issue?: unknown }).issue)
  );
}

function summariseOutcome(outcome: OperationOutcome): string {
  const issue = outcome.issue?.[0];
  if (!issue) return 'OperationOutcome with no issue';
  const code = spineCodeOf(outcome) ?? issue.code;
  const text = issue.diagnostics ?? issue.details?.coding?.[0]?.display ?? issue.details?.text;
  return text ? `${code}: ${text}` : String(code);
}
