import { OperationOutcomeError, parseNhsNumber, spineOutcome } from '@junction/core';
import type { Bundle, RelatedPerson } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, authorise, type VerifyAccessToken } from './access.js';
import { checkPatientPatches } from './access-patch.js';
import { coverageBundle, readCoverage } from './coverage.js';
import { createPatient } from './create.js';
import { answerNhsSandboxScenario, NHS_SANDBOX_ALLOCATED_NHS_NUMBER } from './nhs-sandbox-scenarios.js';
import { patchPatient, readPatches } from './patch.js';
import type { PatientRecord, PatientStore } from './patient-store.js';
import {
  baseUrl,
  etag,
  FHIR_JSON,
  jsonBody,
  requireIfMatch,
  requireJsonContentType,
  requireRequestId,
} from './request-context.js';
import { readView } from './restricted.js';
import { searchPatients } from './search.js';
import { parsePatientSearch } from './search-params.js';

export interface PdsRouteContext {
  store: PatientStore;
  stateful: boolean;
  now: () => Date;
  verifyAccessToken: VerifyAccessToken | undefined;
  newId: () => string;
}

/** The PDS FHIR R4 interactions (specification/personal-demographics.yaml `paths`). */
export function registerPdsRoutes(app: FastifyInstance, ctx: PdsRouteContext): void {
  const { store } = ctx;
  const prefix = app.prefix;

  /** Checks every request shares: X-Request-ID, then the bearer token (supporting-functions.js `validateHeaders`). */
  const begin = (request: FastifyRequest) => {
    requireRequestId(request);
    return authenticate(request, ctx.verifyAccessToken);
  };

  const live = (id: string): PatientRecord => {
    const nhsNumber = requireNhsNumber(id);
    const resolved = store.resolve(nhsNumber);
    if (resolved.kind === 'invalidated') throw OperationOutcomeError.spine('INVALIDATED_RESOURCE');
    if (resolved.kind === 'not-found') throw OperationOutcomeError.spine('RESOURCE_NOT_FOUND');
    return resolved.record;
  };

  app.get('/Patient', async (request, reply) => {
    const caller = begin(request);
    authorise(caller, { kind: 'search' }, request);
    const query = parsePatientSearch(rawQuery(request), caller);
    const options = { baseUrl: baseUrl(request, prefix), now: ctx.now() };
    // stateless mode is NHS's public sandbox: its published scenarios first, then the real engine
    const result =
      (ctx.stateful ? undefined : answerNhsSandboxScenario(store, query, options)) ??
      searchPatients(store, query, options);
    return reply.type(FHIR_JSON).send(result);
  });

  app.get<{ Params: { id: string } }>('/Patient/:id', async (request, reply) => {
    authorise(begin(request), { kind: 'read', nhsNumber: request.params.id }, request);
    const record = live(request.params.id);
    const patient = readView(record.patient);
    return reply
      .type(FHIR_JSON)
      .header('ETag', etag(patient.meta?.versionId ?? '1'))
      .send(patient);
  });

  app.patch<{ Params: { id: string } }>('/Patient/:id', async (request, reply) => {
    const caller = begin(request);
    authorise(caller, { kind: 'update', nhsNumber: request.params.id }, request);
    const nhsNumber = requireNhsNumber(request.params.id);
    const version = requireIfMatch(request);
    requireJsonContentType(request);
    const record = live(nhsNumber);
    const patches = readPatches(jsonBody(request, 'INVALID_UPDATE'));
    if (version !== (record.patient.meta?.versionId ?? '1'))
      throw OperationOutcomeError.spine('RESOURCE_VERSION_MISMATCH');
    if (caller.accessMode === 'patient') checkPatientPatches(record.patient, patches);
    const patched = patchPatient(record.patient, patches, { now: ctx.now(), newId: ctx.newId });
    if (ctx.stateful) store.put({ ...record, patient: patched });
    const body = readView(patched);
    return reply
      .type(FHIR_JSON)
      .header('ETag', etag(patched.meta?.versionId ?? '1'))
      .send(body);
  });

  app.post('/Patient', async (request, reply) => {
    authorise(begin(request), { kind: 'create' }, request);
    requireJsonContentType(request);
    const result = createPatient(store, jsonBody(request, 'INVALID_CREATE'), {
      newId: ctx.newId,
      allocateNhsNumber: ctx.stateful
        ? () => store.allocateNhsNumber()
        : () => NHS_SANDBOX_ALLOCATED_NHS_NUMBER,
    });
    if (result.kind === 'matched') return reply.code(200).type(FHIR_JSON).send(result.outcome);
    if (ctx.stateful)
      store.put({ nhsNumber: result.patient.id as string, patient: result.patient, state: 'active' });
    return reply.code(201).type(FHIR_JSON).send(result.patient);
  });

  app.get<{ Params: { id: string } }>('/Patient/:id/RelatedPerson', async (request, reply) => {
    authorise(begin(request), { kind: 'read', nhsNumber: request.params.id }, request);
    const record = live(request.params.id);
    const people = record.relatedPersons ?? [];
    const bundle: Bundle<RelatedPerson> = {
      resourceType: 'Bundle',
      type: 'searchset',
      timestamp: ctx.now().toISOString(),
      total: people.length,
    };
    if (people.length > 0) {
      bundle.entry = people.map((person) => ({
        fullUrl: `${baseUrl(request, prefix)}/Patient/${record.nhsNumber}/RelatedPerson/${person.id}`,
        resource: person,
      }));
    }
    // relatedpersons-get.yaml documents the ETag on 200: the patient record's version, as NHS's
    // sandbox sends it (createFhirResponse(h, relatedPersons, patient.meta.versionId)).
    return reply
      .type(FHIR_JSON)
      .header('ETag', etag(record.patient.meta?.versionId ?? '1'))
      .send(bundle);
  });

  app.get('/Coverage', async (request, reply) => {
    const caller = begin(request);
    const params = [...new URLSearchParams(rawQuery(request)).keys()];
    const subscriber = new URLSearchParams(rawQuery(request)).get('subscriber:identifier');
    // RestrictRequest.js only knows `?subscriber:identifier=<10 digits>` as a Coverage search
    const wellFormed = params.length === 1 && subscriber !== null && /^\d{10}$/.test(subscriber);
    authorise(
      caller,
      { kind: 'coverage-read', method: 'GET', subscriber: wellFormed ? subscriber : undefined },
      request,
    );
    if (params.length !== 1 || subscriber === null) {
      // karate-tests/.../sandbox/get-coverage-retrieve.js
      throw OperationOutcomeError.spine('INVALID_SEARCH_DATA', {
        diagnostics:
          "Invalid search data provided - 'Coverage search request must follow the format /Coverage?subscriber:identifier=NHS_NUMBER'",
      });
    }
    const record = live(subscriber);
    const bundle = coverageBundle(record, baseUrl(request, prefix), ctx.now());
    return reply
      .type(FHIR_JSON)
      .header('ETag', etag(bundle.meta?.versionId ?? '1'))
      .send(bundle);
  });

  app.post('/Coverage', async (request, reply) => {
    authorise(begin(request), { kind: 'coverage-update', method: 'POST' }, request);
    const version = requireIfMatch(request);
    requireJsonContentType(request);
    const { coverage, subscriber } = readCoverage(jsonBody(request, 'INVALID_UPDATE'));
    const record = live(subscriber);
    const current = record.coverage ?? { versionId: 1, entries: [] };
    if (version !== String(current.versionId)) throw OperationOutcomeError.spine('RESOURCE_VERSION_MISMATCH');
    const updated: PatientRecord = {
      ...record,
      coverage: { versionId: current.versionId + 1, entries: [coverage] },
    };
    if (ctx.stateful) store.put(updated);
    const bundle = coverageBundle(updated, baseUrl(request, prefix), ctx.now());
    return reply
      .code(201)
      .type(FHIR_JSON)
      .header('ETag', etag(bundle.meta?.versionId ?? '1'))
      .send(bundle);
  });

  // Unknown paths and methods answer as the API platform does, never with Fastify's default JSON
  // (proxies/live/apiproxy/policies/AssignMessage.Errors.UnsupportedRequest.xml; requestErrors.feature).
  app.setNotFoundHandler(async (request, reply) => {
    const path = (request.raw.url ?? '').split('?')[0]?.slice(prefix.length) ?? '';
    const known = /^\/(Patient(\/[^/]+(\/RelatedPerson)?)?|Coverage)\/?$/.test(path);
    const outcome = known
      ? spineOutcome('UNSUPPORTED_SERVICE')
      : spineOutcome('UNSUPPORTED_REQUEST', { diagnostics: `Unsupported path - '${path}'` });
    return reply.code(400).type(FHIR_JSON).send(outcome);
  });
}

/** A well-formed NHS number (core's modulus 11 check), else 400 INVALID_RESOURCE_ID (patient-get.yaml). */
function requireNhsNumber(id: string): string {
  const nhsNumber = /^\d{10}$/.test(id) ? parseNhsNumber(id) : null;
  if (!nhsNumber) throw OperationOutcomeError.spine('INVALID_RESOURCE_ID');
  return nhsNumber;
}

function rawQuery(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}
