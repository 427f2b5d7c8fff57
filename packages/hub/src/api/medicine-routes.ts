import { basename } from 'node:path';
import type {
  Bundle,
  BundleEntry,
  Medication,
  OperationOutcome,
  Parameters,
  ParametersParameter,
} from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDmdLookupParameters, toFhirMedication } from '../medicines/fhir/index.js';
import { DMD_SYSTEM, SNOMED_SYSTEM } from '../medicines/fhir/systems.js';
import { dmdCodedValues } from '../medicines/lookup-fields.js';
import {
  DMD_CONCEPT_TYPES,
  type DmdConceptDetail,
  type DmdConceptType,
  dmdConceptRefOf,
  dmdMainRow,
  type VmpDetail,
} from '../medicines/model.js';
import type { DmdSearchHit, DmdSearchOptions } from '../medicines/search/types.js';
import { type DmdService, type DmdSnapshot, parentVmpIdOf } from '../medicines/service.js';
import { type DmdReleaseInfo, listDmdReleases } from '../medicines/store/read-dmd.js';
import type { Store } from '../store/database.js';
import type { AccessControl } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import { FHIR_PREFIX } from './patient-routes.js';

/*
 * The dm+d over HTTP: FHIR R4 Medication read and search, CodeSystem $lookup,
 * and plain JSON for the console and the CLI. Every route needs `medicine.read`.
 *
 * Audit: dm+d reads are reference data, not patient data, so ALLOWED reads are not appended to the
 * audit chain — a typeahead sends a request per keystroke, and one audit record each would bury the
 * patient-data trail the chain exists for. Denials are audited as on every route (access.authorise
 * writes them), so probing without credentials still leaves a record.
 *
 * Errors are OperationOutcomes (the hub's single error format), with FHIR issue types
 * (http://hl7.org/fhir/R4/valueset-issue-type.html): `invalid` (bad value), `not-supported`
 * (unknown parameter or code system), `required` (missing parameter), `not-found`, and `transient`
 * with HTTP 503 before any dm+d release was imported — the condition ends without any change by the
 * caller once an operator imports a release, which is what `transient` means ("the system may be
 * able to resubmit the same content once an underlying issue is resolved").
 */

export interface MedicineRoutesOptions {
  store: Store;
  dmd: DmdService;
  access: AccessControl;
}

type Query = Record<string, string | string[] | undefined>;
type IssueCode = 'invalid' | 'not-supported' | 'required' | 'not-found' | 'transient';

/** A request the routes answer with an OperationOutcome. */
class MedicineRequestError extends Error {
  constructor(
    readonly status: number,
    readonly issue: IssueCode,
    message: string,
  ) {
    super(message);
  }
}

const bad = (parameter: string, message: string) =>
  new MedicineRequestError(400, 'invalid', `Parameter '${parameter}': ${message}`);

export const NO_RELEASE_DIAGNOSTICS = 'no dm+d release has been imported: run junction dmd import';
const noRelease = () => new MedicineRequestError(503, 'transient', NO_RELEASE_DIAGNOSTICS);

function outcome(issue: IssueCode, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: issue, diagnostics }] };
}

/** dm+d and SNOMED CT ids are SCTIDs of 6–18 digits (SNOMED CT TIG §6.1); GTINs (13–14) fit too. */
const CODE = /^\d{6,18}$/;

/** The filter parameters shared by the FHIR search and the JSON search. */
const FILTER_PARAMS = [
  'type',
  'kind',
  'prescribable',
  'available',
  'include-invalid',
  'controlled',
  'form',
  'route',
] as const;

/** One value of a parameter, or undefined; a repeated parameter is an error (none repeats here). */
function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw bad(name, 'give it once');
  return v;
}

function rejectUnknown(query: Query, known: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!known.includes(name)) {
      throw new MedicineRequestError(400, 'not-supported', `Parameter '${name}' is not supported here`);
    }
  }
}

function flag(query: Query, name: string): boolean | undefined {
  const v = single(query, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw bad(name, 'true or false');
}

/** Filters and size of a search from the query (`countParam`: `_count` for FHIR, `limit` for JSON). */
export function parseMedicineFilters(query: Query, countParam: '_count' | 'limit'): DmdSearchOptions {
  const options: DmdSearchOptions = {};
  const type = single(query, 'type');
  if (type !== undefined) {
    const types = type.split(',').map((t) => t.trim().toUpperCase());
    for (const t of types) {
      if (!(DMD_CONCEPT_TYPES as readonly string[]).includes(t)) {
        throw bad('type', `'${t}' is not one of ${DMD_CONCEPT_TYPES.join(', ')}`);
      }
    }
    options.types = [...new Set(types)] as DmdConceptType[];
  }
  const kind = single(query, 'kind');
  if (kind !== undefined) {
    if (kind !== 'medicine' && kind !== 'device') throw bad('kind', 'medicine or device');
    options.kind = kind;
  }
  const prescribable = flag(query, 'prescribable');
  if (prescribable !== undefined) options.prescribableOnly = prescribable;
  const available = flag(query, 'available');
  if (available !== undefined) options.availableOnly = available;
  const includeInvalid = flag(query, 'include-invalid');
  if (includeInvalid !== undefined) options.includeInvalid = includeInvalid;
  const controlled = flag(query, 'controlled');
  if (controlled !== undefined) options.controlledOnly = controlled;
  for (const [name, key] of [
    ['form', 'formCode'],
    ['route', 'routeCode'],
  ] as const) {
    const v = single(query, name);
    if (v === undefined) continue;
    if (!CODE.test(v)) throw bad(name, 'a SNOMED CT code (6–18 digits)');
    options[key] = v;
  }
  const count = single(query, countParam);
  if (count !== undefined) {
    const n = /^\d{1,3}$/.test(count) ? Number(count) : Number.NaN;
    if (!(n >= 1 && n <= 100)) throw bad(countParam, 'an integer from 1 to 100');
    options.limit = n;
  }
  return options;
}

/**
 * Search scores normalised to 0..1 (FHIR `Bundle.entry.search.score` is a decimal 0..1): the index's
 * scores are levels only comparable within one search, so each hit gets its level's rank among the
 * distinct levels, best = 1, equal levels equal scores.
 */
export function normalisedScores(hits: readonly DmdSearchHit[]): number[] {
  const levels = [...new Set(hits.map((h) => h.score))].sort((a, b) => b - a);
  const rank = new Map(levels.map((level, i) => [level, i]));
  return hits.map((h) => Math.round((1 - (rank.get(h.score) ?? 0) / levels.length) * 1e4) / 1e4);
}

function releaseRef(release: DmdReleaseInfo): { id: number; releaseDate: string | null } {
  return { id: release.id, releaseDate: release.releaseDate };
}

/** The code system version reported by $lookup: the release date, or the hub's release id. */
function releaseVersion(release: DmdReleaseInfo): string {
  return release.releaseDate ?? `release-${release.id}`;
}

/** Import history as served: the source's file name only (a server path is none of the caller's business). */
function publicRelease(release: DmdReleaseInfo): DmdReleaseInfo {
  return { ...release, source: basename(release.source) };
}

// Documentation only: validation is ours (OperationOutcomes naming the parameter), so Fastify's
// validator is off, and the serialiser is plain JSON so that no field is dropped by a response schema.
const noValidation = () => () => true;
const plainJson = () => (data: unknown) => JSON.stringify(data);
const fhirResponse = (description: string) => ({
  description,
  content: { 'application/fhir+json': { schema: { type: 'object', additionalProperties: true } } },
});
const jsonResponse = (description: string, schema: Record<string, unknown>) => ({
  description,
  content: { 'application/json': { schema } },
});
const errorResponses = {
  400: fhirResponse('OperationOutcome `invalid` / `not-supported` / `required`, naming the parameter'),
  401: fhirResponse('OperationOutcome ACCESS_DENIED: missing, unknown or revoked credentials'),
  403: fhirResponse(
    'OperationOutcome ACCESS_DENIED: an API key without the medicines:read scope, or a role the hub does not know',
  ),
  503: fhirResponse(`OperationOutcome \`transient\` (Retry-After: 60): ${NO_RELEASE_DIAGNOSTICS}`),
};
const security = [{ bearerApiKey: [] }, { headerApiKey: [] }, { bearerSession: [] }, { sessionCookie: [] }];
const correlationHeaders = {
  type: 'object',
  properties: {
    'x-correlation-id': { type: 'string', description: 'Echoed; new UUID if absent' },
    'x-request-id': { type: 'string', description: 'UUID; echoed; new one if absent or not a UUID' },
  },
};
const codeParam = (description: string) => ({
  type: 'object',
  properties: { code: { type: 'string', pattern: '^\\d{6,18}$', description } },
});
const filterQuery = {
  type: {
    type: 'string',
    description: 'Comma list of concept classes: VTM, VMP, AMP, VMPP, AMPP (default VTM,VMP,AMP)',
    example: 'VMP,AMP',
  },
  kind: { type: 'string', enum: ['medicine', 'device'], description: 'Medicines or devices/appliances only' },
  prescribable: { type: 'boolean', description: 'true: only what NHS primary care may prescribe' },
  available: { type: 'boolean', description: 'true: only products that can still be obtained' },
  'include-invalid': {
    type: 'boolean',
    description: 'true: include concepts dm+d marks INVALID (left out by default)',
  },
  controlled: {
    type: 'boolean',
    description: 'true: only controlled drugs (a CONTROL_DRUG_CATEGORY other than 0000)',
  },
  form: { type: 'string', pattern: '^\\d{6,18}$', description: 'DRUG_FORM FORMCD, e.g. 385055001 (tablet)' },
  route: { type: 'string', pattern: '^\\d{6,18}$', description: 'DRUG_ROUTE ROUTECD, e.g. 26643006 (oral)' },
};
const releaseRefSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, releaseDate: { type: 'string', nullable: true, format: 'date' } },
};
const conceptRefSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: [...DMD_CONCEPT_TYPES] },
    id: { type: 'string' },
    name: { type: 'string' },
    invalid: { type: 'boolean' },
    supplier: { type: 'string', description: 'AMP and AMPP: the supplier (AMP SUPPCD, SUPPLIER lookup)' },
  },
};
const releaseInfoSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    status: { type: 'string', enum: ['importing', 'active', 'superseded', 'failed'] },
    source: { type: 'string', description: 'File or folder name the release was imported from' },
    releaseDate: { type: 'string', nullable: true },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', nullable: true },
    summary: { type: 'object', nullable: true, additionalProperties: true },
    error: { type: 'string', nullable: true },
  },
};

/**
 * The dm+d routes. A request reads one release throughout (the snapshot it started with), so an
 * import switching releases mid-request never mixes two.
 */
export async function medicineRoutes(app: FastifyInstance, options: MedicineRoutesOptions): Promise<void> {
  const { store, dmd, access } = options;

  /** Authorises `medicine.read` (denials audited and answered), runs the handler, maps its errors. */
  const guarded =
    <R extends FastifyRequest>(handler: (request: R, reply: FastifyReply) => Promise<FastifyReply>) =>
    async (request: R, reply: FastifyReply): Promise<FastifyReply> => {
      const caller = await access.authorise(request, reply, 'medicine.read', { auditNhsNumbers: [] });
      if (!caller) return reply;
      try {
        return await handler(request, reply);
      } catch (error) {
        if (!(error instanceof MedicineRequestError)) throw error;
        request.log.info({ status: error.status, issue: error.issue }, 'medicine request refused');
        if (error.status === 503) reply.header('retry-after', '60');
        return sendFhir(reply, error.status, outcome(error.issue, error.message));
      }
    };

  const baseOf = (request: FastifyRequest) => `${request.protocol}://${request.host}${FHIR_PREFIX}`;

  /** The active snapshot; 503 before any import. */
  const snapshot = async (): Promise<DmdSnapshot> => {
    const snap = await dmd.current();
    if (!snap) throw noRelease();
    return snap;
  };

  /** The Medication of a concept of `snap`'s release, with its VMP's facts (cached per request). */
  const medicationOf = async (
    snap: DmdSnapshot,
    detail: DmdConceptDetail,
    vmps: Map<string, Promise<VmpDetail | null>>,
  ): Promise<Medication> => {
    const vpid = parentVmpIdOf(detail);
    let vmp: VmpDetail | null = null;
    if (vpid !== null) {
      let pending = vmps.get(vpid);
      if (!pending) {
        pending = snap.reader.concept(vpid).then((v) => (v?.detail.type === 'VMP' ? v.detail : null));
        vmps.set(vpid, pending);
      }
      vmp = await pending;
    }
    return toFhirMedication(detail, snap.lookup, { vmp });
  };

  /** A text search and the snapshot of the release that answered it. */
  const searchText = async (text: string, searchOptions: DmdSearchOptions) => {
    const result = await dmd.search(text, searchOptions);
    if (!result) throw noRelease();
    return { snap: result.snapshot, hits: result.hits };
  };

  app.get<{ Params: { id: string } }>(
    `${FHIR_PREFIX}/Medication/:id`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Read a dm+d concept as a UK Core Medication',
        description:
          'The id may be a current dm+d id (VTM, VMP, AMP, VMPP, AMPP), a previous id (VTMIDPREV, VPIDPREV, HISTORIC_CODES) or a pack GTIN; the resource carries the current id (and Content-Location points at it when another code was asked for). Reference data: allowed reads are not audited.',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        params: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^\\d{6,18}$', description: 'dm+d id, previous id or GTIN' },
          },
          required: ['id'],
        },
        response: {
          200: fhirResponse('Medication (UK Core)'),
          404: fhirResponse('OperationOutcome `not-found`: no concept of the active release has this code'),
          ...errorResponses,
        },
      },
    },
    guarded(async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const code = request.params.id;
      if (!CODE.test(code)) throw bad('id', 'a dm+d id, previous id or GTIN (6–18 digits)');
      const view = await dmd.concept(code);
      if (view === 'no-release') throw noRelease();
      if (!view) throw new MedicineRequestError(404, 'not-found', `No dm+d concept has the code ${code}`);
      const medication = toFhirMedication(view.detail, view.lookup, { vmp: view.vmp });
      if (view.matchedBy !== 'id')
        reply.header('content-location', `${baseOf(request)}/Medication/${medication.id}`);
      return sendFhir(reply, 200, medication);
    }),
  );

  app.get<{ Querystring: Query }>(
    `${FHIR_PREFIX}/Medication`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Search dm+d concepts (UK Core Medication): by code, or typeahead by name',
        description:
          'Either `code` (token: the concept with that current dm+d id) or `_text` (typeahead: every word must start a word of the name, any order; a 6–18 digit text is also looked up as an id, previous id or GTIN). The filters apply to `_text` searches. `total` is given when exact: when a page is full (as many hits as `_count`) there may be more and `total` is left out. Unknown parameters are refused (400).',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        querystring: {
          type: 'object',
          properties: {
            code: {
              type: 'string',
              description: '[system|]code, system https://dmd.nhs.uk or http://snomed.info/sct (or none)',
              example: 'https://dmd.nhs.uk|22480211000001104',
            },
            _text: { type: 'string', description: 'Typeahead text', example: 'diclofenac gel' },
            ...filterQuery,
            _count: { type: 'integer', minimum: 1, maximum: 100, description: 'Most hits (default 20)' },
          },
        },
        response: { 200: fhirResponse('searchset Bundle of Medication'), ...errorResponses },
      },
    },
    guarded(async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
      const query = request.query;
      rejectUnknown(query, ['code', '_text', ...FILTER_PARAMS, '_count']);
      const code = single(query, 'code');
      const text = single(query, '_text');
      if (code !== undefined && text !== undefined) throw bad('code', 'search by code or by _text, not both');
      if (code === undefined && text === undefined) {
        throw new MedicineRequestError(400, 'required', "A Medication search needs 'code' or '_text'");
      }
      const searchOptions = parseMedicineFilters(query, '_count');
      const base = baseOf(request);
      const vmps = new Map<string, Promise<VmpDetail | null>>();
      const entries: BundleEntry<Medication>[] = [];
      let exact = true;

      if (code !== undefined) {
        const filter = FILTER_PARAMS.find((p) => query[p] !== undefined);
        if (filter !== undefined) throw bad(filter, 'filters apply to _text searches, not to code');
        const value = tokenValue(code);
        const snap = await snapshot();
        const found = await snap.reader.concept(value);
        // A token matches the resource's own coding: its current id only (previous ids and GTINs: read).
        if (found?.matchedBy === 'id') {
          const resource = await medicationOf(snap, found.detail, vmps);
          entries.push({
            fullUrl: `${base}/Medication/${resource.id}`,
            resource,
            search: { mode: 'match', score: 1 },
          });
        }
      } else {
        const trimmed = (text ?? '').trim();
        if (trimmed === '') throw bad('_text', 'empty');
        const { snap, hits } = await searchText(trimmed, searchOptions);
        const scores = normalisedScores(hits);
        const resources = await Promise.all(
          hits.map(async (hit) => {
            const found = await snap.reader.concept(hit.entry.id);
            return found ? medicationOf(snap, found.detail, vmps) : null;
          }),
        );
        resources.forEach((resource, i) => {
          if (resource) {
            entries.push({
              fullUrl: `${base}/Medication/${resource.id}`,
              resource,
              search: { mode: 'match', score: scores[i] ?? 0 },
            });
          }
        });
        exact = hits.length < (searchOptions.limit ?? 20);
      }
      const bundle: Bundle<Medication> = { resourceType: 'Bundle', type: 'searchset' };
      if (exact) bundle.total = entries.length;
      bundle.link = [
        { relation: 'self', url: `${base}/Medication?${new URLSearchParams(flatQuery(query))}` },
      ];
      bundle.entry = entries;
      return sendFhir(reply, 200, bundle);
    }),
  );

  app.get<{ Querystring: Query }>(
    `${FHIR_PREFIX}/CodeSystem/$lookup`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'dm+d CodeSystem $lookup (FHIR R4, GET form)',
        description:
          'http://hl7.org/fhir/R4/codesystem-operation-lookup.html for system https://dmd.nhs.uk: display, designations (abbreviated name, AMP description) and every dm+d fact as a property (parent/child links, flags, form, ingredients, prices…). A previous id is looked up as the current concept. `property` (repeatable) keeps only the properties named.',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        querystring: {
          type: 'object',
          required: ['system', 'code'],
          properties: {
            system: { type: 'string', enum: [DMD_SYSTEM] },
            code: { type: 'string', pattern: '^\\d{6,18}$', example: '22480211000001104' },
            version: { type: 'string', description: 'Must be the active release (its date)' },
            property: {
              type: 'array',
              items: { type: 'string' },
              description: 'repeatable, e.g. parent, inactive, VPI',
            },
          },
        },
        response: {
          200: fhirResponse('Parameters'),
          404: fhirResponse('OperationOutcome `not-found`: no concept of the active release has this code'),
          ...errorResponses,
        },
      },
    },
    guarded(async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
      const query = request.query;
      rejectUnknown(query, ['system', 'code', 'version', 'property']);
      const system = single(query, 'system');
      const code = single(query, 'code');
      const version = single(query, 'version');
      if (code === undefined || code === '') {
        throw new MedicineRequestError(400, 'required', "Parameter 'code' is required");
      }
      // R4 $lookup: "If a code is provided, a system must be provided".
      if (system === undefined)
        throw new MedicineRequestError(400, 'required', "Parameter 'system' is required");
      if (system !== DMD_SYSTEM) {
        throw new MedicineRequestError(
          400,
          'not-supported',
          `Parameter 'system': the hub looks up ${DMD_SYSTEM} (dm+d) codes only, not ${system}`,
        );
      }
      if (!CODE.test(code)) throw bad('code', 'a dm+d id (6–18 digits)');
      const view = await dmd.concept(code);
      if (view === 'no-release') throw noRelease();
      // A GTIN names a pack but is not a dm+d code (read Medication/<GTIN> for that).
      if (!view || view.matchedBy === 'gtin') {
        throw new MedicineRequestError(404, 'not-found', `No dm+d concept has the code ${code}`);
      }
      const current = releaseVersion(view.release);
      if (version !== undefined && version !== current) {
        throw new MedicineRequestError(
          400,
          'not-supported',
          `Parameter 'version': the hub holds only the active dm+d release (${current})`,
        );
      }
      const parameters = toDmdLookupParameters(
        { detail: view.detail, parents: view.parents, children: view.children, releaseId: current },
        view.lookup,
      );
      const wanted = query.property === undefined ? undefined : new Set([query.property].flat());
      return sendFhir(reply, 200, wanted ? onlyProperties(parameters, wanted) : parameters);
    }),
  );

  app.get<{ Querystring: Query }>(
    '/medicines/search',
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'dm+d typeahead for the console and the CLI (JSON)',
        description:
          'The same search as FHIR Medication?_text=, as flat hits with the flags lists need. A 6–18 digit `q` is looked up as an id, previous id or GTIN first. Scores are normalised to 0..1 by rank.',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        querystring: {
          type: 'object',
          required: ['q'],
          properties: {
            q: { type: 'string', example: 'amoxicillin 500' },
            ...filterQuery,
            limit: { type: 'integer', minimum: 1, maximum: 100, description: 'Most hits (default 20)' },
          },
        },
        response: {
          200: jsonResponse('Hits, best first', {
            type: 'object',
            properties: {
              release: releaseRefSchema,
              hits: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    type: { type: 'string', enum: [...DMD_CONCEPT_TYPES] },
                    id: { type: 'string' },
                    name: { type: 'string' },
                    supplier: {
                      type: 'string',
                      nullable: true,
                      description: 'AMP and AMPP: the supplier (AMP SUPPCD, SUPPLIER lookup); null otherwise',
                    },
                    score: { type: 'number', minimum: 0, maximum: 1 },
                    matched: { type: 'string', enum: ['id', 'name', 'abbreviatedName', 'description'] },
                    kind: { type: 'string', enum: ['medicine', 'device'] },
                    prescribable: { type: 'boolean' },
                    available: { type: 'boolean' },
                    invalid: { type: 'boolean' },
                    controlledDrugCategory: { type: 'string', nullable: true },
                    formCode: { type: 'string', nullable: true },
                    vmpId: { type: 'string', nullable: true },
                    vtmId: { type: 'string', nullable: true },
                  },
                },
              },
            },
          }),
          ...errorResponses,
        },
      },
    },
    guarded(async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
      const query = request.query;
      rejectUnknown(query, ['q', ...FILTER_PARAMS, 'limit']);
      const q = single(query, 'q')?.trim();
      if (q === undefined || q === '')
        throw new MedicineRequestError(400, 'required', "Parameter 'q' is required");
      const searchOptions = parseMedicineFilters(query, 'limit');
      const result = await dmd.search(q, searchOptions);
      if (!result) throw noRelease();
      const scores = normalisedScores(result.hits);
      return reply.code(200).send({
        release: releaseRef(result.release),
        hits: result.hits.map(({ entry: e, matched }, i) => ({
          type: e.type,
          id: e.id,
          name: e.name,
          supplier: e.supplier ?? null,
          score: scores[i] ?? 0,
          matched,
          kind: e.kind,
          prescribable: e.prescribable,
          available: e.available,
          invalid: e.invalid,
          controlledDrugCategory: e.controlledDrugCategory,
          formCode: e.formCode,
          vmpId: e.vmpId,
          vtmId: e.vtmId,
        })),
      });
    }),
  );

  app.get<{ Params: { code: string } }>(
    '/medicines/concepts/:code',
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'One dm+d concept with its parents and children (JSON)',
        description:
          'By id, previous id or GTIN (`matchedBy` says which). `detail` is the concept’s dm+d rows with their XSD element names; `codes` decodes the lookup-coded elements of the concept’s own row (e.g. `BASISCD`) with the release’s lookup descriptions; `supplier` (AMP, AMPP) is the supplier’s name.',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        params: { ...codeParam('dm+d id, previous id or GTIN'), required: ['code'] },
        response: {
          200: jsonResponse('The concept', {
            type: 'object',
            properties: {
              release: releaseRefSchema,
              matchedBy: { type: 'string', enum: ['id', 'previous-id', 'gtin'] },
              requested: { type: 'string' },
              type: { type: 'string', enum: [...DMD_CONCEPT_TYPES] },
              id: { type: 'string' },
              name: { type: 'string' },
              supplier: { type: 'string' },
              detail: { type: 'object', additionalProperties: true },
              codes: {
                type: 'object',
                description:
                  'Element name → its lookup list, code and description (null if not in the lookup)',
                additionalProperties: {
                  type: 'object',
                  properties: {
                    list: { type: 'string' },
                    code: { type: 'string' },
                    description: { type: 'string', nullable: true },
                  },
                },
              },
              parents: { type: 'array', items: conceptRefSchema },
              children: { type: 'array', items: conceptRefSchema },
            },
          }),
          404: fhirResponse('OperationOutcome `not-found`'),
          ...errorResponses,
        },
      },
    },
    guarded(async (request: FastifyRequest<{ Params: { code: string } }>, reply) => {
      const code = request.params.code;
      if (!CODE.test(code)) throw bad('code', 'a dm+d id, previous id or GTIN (6–18 digits)');
      const view = await dmd.concept(code);
      if (view === 'no-release') throw noRelease();
      if (!view) throw new MedicineRequestError(404, 'not-found', `No dm+d concept has the code ${code}`);
      const { id, name, supplier } = dmdConceptRefOf(view.detail, view.lookup);
      return reply.code(200).send({
        release: releaseRef(view.release),
        matchedBy: view.matchedBy,
        requested: view.requested,
        type: view.detail.type,
        id,
        name,
        ...(supplier !== undefined && { supplier }),
        detail: view.detail,
        codes: dmdCodedValues(dmdMainRow(view.detail), view.lookup),
        parents: view.parents,
        children: view.children,
      });
    }),
  );

  app.get(
    '/medicines/releases',
    {
      serializerCompiler: plainJson,
      schema: {
        summary: 'The active dm+d release and the import history (JSON)',
        description:
          'Newest first, at most 20. `active` is null before the first import (not an error here).',
        tags: ['Medicines'],
        security,
        headers: correlationHeaders,
        response: {
          200: jsonResponse('Releases', {
            type: 'object',
            properties: {
              active: { ...releaseInfoSchema, nullable: true },
              history: { type: 'array', items: releaseInfoSchema },
            },
          }),
          401: errorResponses[401],
          403: errorResponses[403],
        },
      },
    },
    guarded(async (_request, reply) => {
      const history = (await listDmdReleases(store)).map(publicRelease);
      const snap = await dmd.current();
      return reply.code(200).send({ active: snap ? publicRelease(snap.release) : null, history });
    }),
  );
}

/** The code of a token `[system|]code`, for the code systems whose codes are dm+d ids. */
function tokenValue(token: string): string {
  const bar = token.lastIndexOf('|');
  const system = bar < 0 ? undefined : token.slice(0, bar);
  const value = bar < 0 ? token : token.slice(bar + 1);
  // dm+d ids are SNOMED CT UK drug extension concept ids (namespace 1000001): both systems name them.
  if (system !== undefined && system !== '' && system !== DMD_SYSTEM && system !== SNOMED_SYSTEM) {
    throw new MedicineRequestError(
      400,
      'not-supported',
      `Parameter 'code': system ${system} is not supported (use ${DMD_SYSTEM} or ${SNOMED_SYSTEM})`,
    );
  }
  if (!CODE.test(value)) throw bad('code', 'a dm+d id (6–18 digits)');
  return value;
}

/** $lookup `property` input: only the properties with those codes (the other parameters stay). */
function onlyProperties(parameters: Parameters, codes: ReadonlySet<string>): Parameters {
  const keep = (p: ParametersParameter) =>
    p.name !== 'property' || codes.has(p.part?.find((x) => x.name === 'code')?.valueCode ?? '');
  return { ...parameters, parameter: (parameters.parameter ?? []).filter(keep) };
}

function flatQuery(query: Query): [string, string][] {
  return Object.entries(query).flatMap(([k, v]) =>
    v === undefined ? [] : [v].flat().map((x) => [k, x] as [string, string]),
  );
}
