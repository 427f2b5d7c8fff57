import { describe, expect, it } from 'vitest';
import { SYSTEMS } from './fhir.js';
import {
  isOperationOutcome,
  OperationOutcomeError,
  SPINE_ERRORS,
  spineOutcome,
} from './operation-outcome.js';

describe('OperationOutcomeError', () => {
  it('builds the PDS shape: severity, code, Spine coding with version 1, diagnostics', () => {
    const error = OperationOutcomeError.spine('INVALID_RESOURCE_ID', { diagnostics: 'Invalid NHS number' });
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_RESOURCE_ID');
    expect(error.message).toBe('INVALID_RESOURCE_ID: Invalid NHS number');
    expect(error.outcome).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'value',
          details: {
            coding: [
              {
                system: SYSTEMS.spineErrorOrWarningCode,
                version: '1',
                code: 'INVALID_RESOURCE_ID',
                display: 'Resource Id is invalid',
              },
            ],
          },
          diagnostics: 'Invalid NHS number',
        },
      ],
    });
  });

  it('lets one code carry another status, and knows what is retryable', () => {
    expect(OperationOutcomeError.spine('ACCESS_DENIED', { status: 401 }).status).toBe(401);
    expect(OperationOutcomeError.spine('TOO_MANY_REQUESTS').retryable).toBe(true);
    expect(OperationOutcomeError.spine('SERVICE_UNAVAILABLE').retryable).toBe(true);
    expect(OperationOutcomeError.spine('RESOURCE_NOT_FOUND').retryable).toBe(false);
  });

  it('marks too many matches as information with multiple-matches (PDS answers it as HTTP 200)', () => {
    const outcome = spineOutcome('TOO_MANY_MATCHES');
    expect(outcome.issue[0]).toMatchObject({ severity: 'information', code: 'multiple-matches' });
    expect(SPINE_ERRORS.TOO_MANY_MATCHES.status).toBe(200);
    expect(isOperationOutcome(outcome)).toBe(true);
    expect(isOperationOutcome({ resourceType: 'Patient' })).toBe(false);
  });

  it('puts the FHIRPath of the offending element in expression', () => {
    const outcome = spineOutcome('INVALID_VALUE', { expression: 'Patient.gender' });
    expect(outcome.issue[0]?.expression).toEqual(['Patient.gender']);
  });

  it('lets a context-specific display replace the catalogue one (PDS 401 ACCESS_DENIED)', () => {
    const outcome = spineOutcome('ACCESS_DENIED', { display: 'Access Denied - Unauthorised' });
    expect(outcome.issue[0]?.details?.coding?.[0]?.display).toBe('Access Denied - Unauthorised');
    expect(spineOutcome('ACCESS_DENIED').issue[0]?.details?.coding?.[0]?.display).toBe('Access denied');
  });

  it('has the proxy code for unsupported paths (AssignMessage.Errors.UnsupportedRequest.xml)', () => {
    const error = OperationOutcomeError.spine('UNSUPPORTED_REQUEST', {
      diagnostics: "Unsupported path - '/HelloWorld'",
    });
    expect(error.status).toBe(400);
    expect(error.outcome.issue[0]?.details?.coding?.[0]?.display).toBe(
      'The request is not one that is supported.',
    );
  });
});
