import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Bundle, Medication, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { importDmdRelease } from '../medicines/store/import-release.js';
import { fakePds } from '../testing/fake-pds.js';
import { r4StructureErrors } from '../testing/fhir/r4-structure.js';
import { DMD_2019 as OP_2019, DMD_2019_VPID_CHANGED as OP_2019_CHANGED } from '../testing/reference.js';
import { clinician, patient, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { NO_RELEASE_DIAGNOSTICS, normalisedScores } from './medicine-routes.js';

/*
 * The dm+d routes over the real 2019 sample release (openprescribing's test data, NHSBSA release
 * 4.0.1 of 2019-04-01): diclofenac gel family, adenosine (VPIDPREV 318338001), Nutrison (GTINs).
 */

const DICLOFENAC_VMP = '22480211000001104';
const DICLOFENAC_VTM = '32889211000001103';
const VOLTAROL_AMP = '22479611000001102';
const DICLOFENAC_GEL_FORM = '385100002';
const ADENOSINE_VMP = '35894711000001106';
const ADENOSINE_PREVIOUS = '318338001';
const AAH_ADENOSINE_AMP = '20009311000001102';
const NUTRISON_GTIN = '8712400158572';
const NUTRISON_AMPP = '1714711000001106';

const now = () => new Date();
type Json = Record<string, unknown>;

describe.each(await testStores())('dm+d routes on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let key: string;
  const temp: string[] = [];

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    hub = await createHub(loadConfig({}, { logLevel: 'silent' }), { store: t.store, pds: fakePds(), now });
    // Default scopes: a key made without naming any may look medicines up.
    key = (await createApiKey(t.store, { name: 'pharmacy-app', organisationOds: 'FA123' })).secret;
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    for (const dir of temp) await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = { authorization: `Bearer ${key}` }) =>
    hub.app.inject({ method: 'GET', url, headers });
  const issue = (body: unknown) => (body as OperationOutcome).issue?.[0];
  const auditRows = () => t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();

  describe('before any release is imported', () => {
    it.for([
      `/fhir/R4/Medication/${DICLOFENAC_VMP}`,
      '/fhir/R4/Medication?_text=diclofenac',
      `/fhir/R4/Medication?code=${DICLOFENAC_VMP}`,
      `/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}`,
      '/medicines/search?q=diclofenac',
      `/medicines/concepts/${DICLOFENAC_VMP}`,
    ])('%s answers 503 transient, saying to run the import', async (url, ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get(url);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('60');
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(issue(res.json())).toEqual({
        severity: 'error',
        code: 'transient',
        diagnostics: NO_RELEASE_DIAGNOSTICS,
      });
    });

    it('lists no releases (not an error)', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get('/medicines/releases');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ active: null, history: [] });
    });
  });

  describe('with the 2019 sample release', () => {
    beforeAll(async () => {
      if (factory.skip) return;
      await importDmdRelease(t.store, OP_2019, { retainPreviousMs: 0 });
    });

    it('reads a VMP as a structurally valid UK Core Medication, echoing the correlation id', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get(`/fhir/R4/Medication/${DICLOFENAC_VMP}`, {
        authorization: `Bearer ${key}`,
        'x-correlation-id': 'corr-dmd-1',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.headers['x-correlation-id']).toBe('corr-dmd-1');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['content-location']).toBeUndefined();
      const med = res.json<Medication>();
      expect(r4StructureErrors(med)).toEqual([]);
      expect(med).toMatchObject({
        resourceType: 'Medication',
        id: DICLOFENAC_VMP,
        meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Medication'] },
        status: 'active',
      });
      expect(med.code?.coding?.[0]).toEqual({
        system: 'https://dmd.nhs.uk',
        code: DICLOFENAC_VMP,
        display: 'Diclofenac 2.32% gel',
      });
      expect(med.form?.coding?.[0]?.code).toBe(DICLOFENAC_GEL_FORM);
    });

    it('reads an AMP with the form and active ingredient of its VMP', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const med = (await get(`/fhir/R4/Medication/${VOLTAROL_AMP}`)).json<Medication>();
      expect(r4StructureErrors(med)).toEqual([]);
      expect(med.id).toBe(VOLTAROL_AMP);
      expect(med.form?.coding?.[0]?.code).toBe(DICLOFENAC_GEL_FORM);
      expect(med.ingredient?.some((i) => i.isActive === true)).toBe(true);
      expect(med.manufacturer?.display).toBeTruthy();
    });

    it('reads by a previous id (VPIDPREV) and by a GTIN, answering with the current id', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const prev = await get(`/fhir/R4/Medication/${ADENOSINE_PREVIOUS}`);
      expect(prev.statusCode).toBe(200);
      expect(prev.json<Medication>().id).toBe(ADENOSINE_VMP);
      expect(prev.headers['content-location']).toBe(
        `http://localhost:80/fhir/R4/Medication/${ADENOSINE_VMP}`,
      );

      const gtin = await get(`/fhir/R4/Medication/${NUTRISON_GTIN}`);
      expect(gtin.statusCode).toBe(200);
      const pack = gtin.json<Medication>();
      expect(r4StructureErrors(pack)).toEqual([]);
      expect(pack.id).toBe(NUTRISON_AMPP);
      expect(pack.amount?.numerator?.value).toBeGreaterThan(0);
    });

    it('answers 404 not-found for an unknown code and 400 invalid for one that is not 6–18 digits', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const unknown = await get('/fhir/R4/Medication/999999999');
      expect(unknown.statusCode).toBe(404);
      expect(issue(unknown.json())).toMatchObject({
        code: 'not-found',
        diagnostics: expect.stringContaining('999999999'),
      });
      for (const id of ['12345', 'abcdefg', '1234567890123456789']) {
        const res = await get(`/fhir/R4/Medication/${id}`);
        expect(res.statusCode, id).toBe(400);
        expect(issue(res.json()), id).toMatchObject({
          code: 'invalid',
          diagnostics: expect.stringContaining("'id'"),
        });
      }
    });

    it('searches by code token with the dm+d system, the SNOMED CT system or none', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      for (const token of [
        `https://dmd.nhs.uk|${DICLOFENAC_VMP}`,
        `http://snomed.info/sct|${DICLOFENAC_VMP}`,
        `|${DICLOFENAC_VMP}`,
        DICLOFENAC_VMP,
      ]) {
        const res = await get(`/fhir/R4/Medication?code=${encodeURIComponent(token)}`);
        expect(res.statusCode, token).toBe(200);
        const bundle = res.json<Bundle<Medication>>();
        expect(bundle, token).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
        expect(bundle.entry?.[0], token).toMatchObject({
          fullUrl: `http://localhost:80/fhir/R4/Medication/${DICLOFENAC_VMP}`,
          resource: { resourceType: 'Medication', id: DICLOFENAC_VMP },
          search: { mode: 'match', score: 1 },
        });
      }
      // A token matches the resource's coding: the previous id is not on it (read resolves it instead).
      const prev = (await get(`/fhir/R4/Medication?code=${ADENOSINE_PREVIOUS}`)).json<Bundle>();
      expect(prev).toMatchObject({ total: 0, entry: [] });
      const other = await get(`/fhir/R4/Medication?code=${encodeURIComponent('http://loinc.org|1234567')}`);
      expect(other.statusCode).toBe(400);
      expect(issue(other.json())).toMatchObject({
        code: 'not-supported',
        diagnostics: expect.stringContaining("'code'"),
      });
    });

    it('searches by _text: a searchset of valid Medications, scores 0..1 best first', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      // "gel": the diclofenac VMP and the Voltarol AMP (whose name has no "diclofenac").
      const res = await get('/fhir/R4/Medication?_text=gel');
      expect(res.statusCode).toBe(200);
      const bundle = res.json<Bundle<Medication>>();
      const entries = bundle.entry ?? [];
      expect(entries.map((e) => e.resource?.id)).toContain(DICLOFENAC_VMP);
      expect(entries.map((e) => e.resource?.id)).toContain(VOLTAROL_AMP);
      expect(bundle.total).toBe(entries.length);
      const scores = entries.map((e) => e.search?.score ?? -1);
      expect(scores[0]).toBe(1);
      for (const [i, s] of scores.entries()) {
        expect(s).toBeGreaterThan(0);
        expect(s).toBeLessThanOrEqual(i === 0 ? 1 : (scores[i - 1] as number));
      }
      for (const e of entries) {
        expect(e.search?.mode).toBe('match');
        expect(e.fullUrl).toBe(`http://localhost:80/fhir/R4/Medication/${e.resource?.id}`);
        expect(r4StructureErrors(e.resource), e.resource?.id).toEqual([]);
      }
      // A full page may hide more matches: no total then.
      const one = (await get('/fhir/R4/Medication?_text=gel&_count=1')).json<Bundle>();
      expect(one.entry).toHaveLength(1);
      expect(one.total).toBeUndefined();
    });

    it('applies the filters to _text searches (FHIR and JSON agree)', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const hits = async (params: string) => {
        const res = await get(`/medicines/search?q=gel${params}`);
        expect(res.statusCode, params).toBe(200);
        return res.json<{ hits: Json[] }>().hits;
      };
      const every = '&type=VTM,VMP,AMP,VMPP,AMPP&include-invalid=true&limit=100';
      const all = await hits(every);
      const types = new Set(all.map((h) => h.type));
      expect([...types].sort()).toEqual(['AMP', 'AMPP', 'VMP', 'VMPP', 'VTM']);
      // Each filter keeps a non-empty, strictly smaller subset: exactly the hits that pass it.
      const cases: [string, (h: Json) => boolean][] = [
        ['&type=AMP', (h) => h.type === 'AMP'],
        ['&type=vmpp,ampp', (h) => h.type === 'VMPP' || h.type === 'AMPP'],
        [`&form=${DICLOFENAC_GEL_FORM}`, (h) => h.formCode === DICLOFENAC_GEL_FORM],
        ['&prescribable=true', (h) => h.prescribable === true],
        ['&available=true', (h) => h.available === true],
        ['&include-invalid=false', (h) => h.invalid === false],
      ];
      for (const [params, pass] of cases) {
        // The case's parameters replace the base ones of the same name.
        const merged = new URLSearchParams(every.slice(1));
        for (const [k, v] of new URLSearchParams(params.slice(1))) merged.set(k, v);
        const got = await hits(`&${merged}`);
        const want = all.filter(pass);
        expect(want.length, params).toBeGreaterThan(0);
        expect(want.length, params).toBeLessThan(all.length);
        expect(got.map((h) => h.id).sort(), params).toEqual(want.map((h) => h.id).sort());
      }
      // The sample has no device and no controlled drug matching "gel": both filters leave nothing.
      expect(all.some((h) => h.kind === 'device')).toBe(false);
      expect(await hits(`${every}&kind=device`)).toEqual([]);
      expect(await hits(`${every}&kind=medicine`)).toHaveLength(all.length);
      expect(await hits(`${every}&controlled=true`)).toEqual([]);

      const fhir = (await get('/fhir/R4/Medication?_text=gel&type=AMP,AMPP&_count=100')).json<
        Bundle<Medication>
      >();
      const amps = await hits('&type=AMP,AMPP&limit=100');
      expect(amps.length).toBeGreaterThan(1);
      expect(fhir.entry?.map((e) => e.resource?.id)).toEqual(amps.map((h) => h.id));
    });

    it.for([
      ['_count=0', '_count', 'invalid'],
      ['_count=101', '_count', 'invalid'],
      ['_count=ten', '_count', 'invalid'],
      ['type=VMP,XYZ', 'type', 'invalid'],
      ['kind=drug', 'kind', 'invalid'],
      ['prescribable=yes', 'prescribable', 'invalid'],
      ['include-invalid=1', 'include-invalid', 'invalid'],
      ['form=tablet', 'form', 'invalid'],
      ['route=1', 'route', 'invalid'],
      ['colour=blue', 'colour', 'not-supported'],
      ['_text=a&_text=b', '_text', 'invalid'],
    ] as const)(
      'refuses %s in a Medication search, naming the parameter',
      async ([params, name, code], ctx) => {
        if (factory.skip) ctx.skip(factory.skip);
        const res = await get(
          `/fhir/R4/Medication?_text=diclofenac&${params}`.replace('_text=diclofenac&_text', '_text'),
        );
        expect(res.statusCode).toBe(400);
        expect(issue(res.json())).toMatchObject({ code, diagnostics: expect.stringContaining(`'${name}'`) });
      },
    );

    it('refuses a Medication search with neither or both of code and _text, or filters with code', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const none = await get('/fhir/R4/Medication?type=VMP');
      expect(none.statusCode).toBe(400);
      expect(issue(none.json())?.code).toBe('required');
      const both = await get(`/fhir/R4/Medication?_text=x&code=${DICLOFENAC_VMP}`);
      expect(both.statusCode).toBe(400);
      const filtered = await get(`/fhir/R4/Medication?code=${DICLOFENAC_VMP}&type=VMP`);
      expect(filtered.statusCode).toBe(400);
      expect(issue(filtered.json())?.diagnostics).toContain("'type'");
    });

    it('$lookup returns the dm+d Parameters of a concept, by id or previous id', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get(`/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const params = res.json<Parameters>();
      expect(r4StructureErrors(params)).toEqual([]);
      const p = (name: string) => params.parameter?.filter((x) => x.name === name) ?? [];
      expect(p('name')[0]?.valueString).toBe('dm+d');
      expect(p('version')[0]?.valueString).toBe('2019-04-01');
      expect(p('display')[0]?.valueString).toBe('Diclofenac 2.32% gel');
      const codes = p('property').map((x) => x.part?.find((y) => y.name === 'code')?.valueCode);
      expect(codes).toContain('inactive');
      expect(codes).toContain('parent');
      expect(codes).toContain('child');
      const parents = p('property')
        .filter((x) => x.part?.[0]?.valueCode === 'parent')
        .map((x) => x.part?.[1]?.valueCode);
      expect(parents).toContain(DICLOFENAC_VTM);

      const only = (
        await get(
          `/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}&property=inactive&property=parent`,
        )
      ).json<Parameters>();
      const kept = new Set(
        only.parameter?.filter((x) => x.name === 'property').map((x) => x.part?.[0]?.valueCode),
      );
      expect([...kept].sort()).toEqual(['inactive', 'parent']);
      expect(only.parameter?.find((x) => x.name === 'display')?.valueString).toBe('Diclofenac 2.32% gel');

      const prev = (
        await get(`/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=${ADENOSINE_PREVIOUS}`)
      ).json<Parameters>();
      expect(prev.parameter?.find((x) => x.name === 'display')?.valueString).toBe(
        'Adenosine 6mg/2ml solution for injection vials',
      );
    });

    it.for([
      [`system=http://snomed.info/sct&code=${DICLOFENAC_VMP}`, 400, 'not-supported', 'system'],
      [`code=${DICLOFENAC_VMP}`, 400, 'required', 'system'],
      ['system=https://dmd.nhs.uk', 400, 'required', 'code'],
      ['system=https://dmd.nhs.uk&code=abc', 400, 'invalid', 'code'],
      [
        `system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}&version=2020-01-01`,
        400,
        'not-supported',
        'version',
      ],
      [
        `system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}&displayLanguage=fr`,
        400,
        'not-supported',
        'displayLanguage',
      ],
      ['system=https://dmd.nhs.uk&code=999999999', 404, 'not-found', '999999999'],
      [`system=https://dmd.nhs.uk&code=${NUTRISON_GTIN}`, 404, 'not-found', NUTRISON_GTIN],
    ] as const)('$lookup refuses %s', async ([params, status, code, named], ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get(`/fhir/R4/CodeSystem/$lookup?${params}`);
      expect(res.statusCode).toBe(status);
      expect(issue(res.json())).toMatchObject({ code, diagnostics: expect.stringContaining(named) });
    });

    it('JSON search: release, flat hits with flags, a GTIN looked up first', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get('/medicines/search?q=diclofenac%20gel');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json<{ release: Json; hits: Json[] }>();
      expect(body.release).toEqual({ id: expect.any(Number), releaseDate: '2019-04-01' });
      const vmp = body.hits.find((h) => h.id === DICLOFENAC_VMP);
      expect(vmp).toEqual({
        type: 'VMP',
        id: DICLOFENAC_VMP,
        name: 'Diclofenac 2.32% gel',
        supplier: null,
        score: expect.any(Number),
        matched: 'name',
        kind: 'medicine',
        prescribable: expect.any(Boolean),
        available: expect.any(Boolean),
        invalid: false,
        controlledDrugCategory: expect.toBeOneOf([null, '0000']),
        formCode: DICLOFENAC_GEL_FORM,
        vmpId: DICLOFENAC_VMP,
        vtmId: DICLOFENAC_VTM,
      });
      const gtin = (await get(`/medicines/search?q=${NUTRISON_GTIN}`)).json<{ hits: Json[] }>();
      expect(gtin.hits[0]).toMatchObject({ type: 'AMPP', id: NUTRISON_AMPP, matched: 'id', score: 1 });

      for (const [params, name] of [
        ['', 'q'],
        ['q=%20', 'q'],
        ['q=x&limit=0', 'limit'],
        ['q=x&_count=5', '_count'],
      ]) {
        const bad = await get(`/medicines/search?${params}`);
        expect(bad.statusCode, params).toBe(400);
        expect(issue(bad.json())?.diagnostics, params).toContain(`'${name}'`);
      }
    });

    it('JSON concept: detail, parents and children, and how the code matched', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const res = await get(`/medicines/concepts/${DICLOFENAC_VMP}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<Json & { parents: Json[]; children: Json[]; detail: Json }>();
      expect(body).toMatchObject({
        release: { releaseDate: '2019-04-01' },
        matchedBy: 'id',
        requested: DICLOFENAC_VMP,
        type: 'VMP',
        id: DICLOFENAC_VMP,
        name: 'Diclofenac 2.32% gel',
        detail: { type: 'VMP', vmp: { VPID: DICLOFENAC_VMP }, form: { FORMCD: DICLOFENAC_GEL_FORM } },
      });
      expect(body.parents).toEqual([
        { type: 'VTM', id: DICLOFENAC_VTM, name: expect.any(String), invalid: false },
      ]);
      expect(body.children.filter((c) => c.type === 'AMP')).toHaveLength(3);
      expect(body.children.filter((c) => c.type === 'VMPP')).toHaveLength(3);

      const prev = (await get(`/medicines/concepts/${ADENOSINE_PREVIOUS}`)).json();
      expect(prev).toMatchObject({
        matchedBy: 'previous-id',
        requested: ADENOSINE_PREVIOUS,
        id: ADENOSINE_VMP,
      });
      const gtin = (await get(`/medicines/concepts/${NUTRISON_GTIN}`)).json();
      expect(gtin).toMatchObject({ matchedBy: 'gtin', type: 'AMPP', id: NUTRISON_AMPP });
      expect((await get('/medicines/concepts/999999999')).statusCode).toBe(404);
      expect((await get('/medicines/concepts/12ab')).statusCode).toBe(400);
    });

    it('JSON concept and search: AMPs and AMPPs carry their supplier (AMP SUPPCD → SUPPLIER lookup), so the AMPs of one VMP can be told apart', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      // The adenosine VMP's AMPs: five of its six share the VMP's name; ordered by name, then supplier.
      const vmp = (await get(`/medicines/concepts/${ADENOSINE_VMP}`)).json<{ children: Json[] }>();
      expect(vmp.children.filter((c) => c.type === 'AMP').map((c) => [c.name, c.supplier])).toEqual([
        ['Adenocor 6mg/2ml solution for injection vials', 'Sanofi'],
        ['Adenosine 6mg/2ml solution for injection vials', 'A A H Pharmaceuticals Ltd'],
        ['Adenosine 6mg/2ml solution for injection vials', 'Advanz Pharma'],
        ['Adenosine 6mg/2ml solution for injection vials', 'Alliance Healthcare (Distribution) Ltd'],
        ['Adenosine 6mg/2ml solution for injection vials', 'Peckforton Pharmaceuticals Ltd'],
        ['Adenosine 6mg/2ml solution for injection vials', 'Wockhardt UK Ltd'],
      ]);
      // A VMPP is no one's product: no supplier.
      expect(vmp.children.filter((c) => c.type === 'VMPP').every((c) => !('supplier' in c))).toBe(true);

      const amp = (await get(`/medicines/concepts/${AAH_ADENOSINE_AMP}`)).json<Json & { codes: Json }>();
      expect(amp).toMatchObject({ type: 'AMP', supplier: 'A A H Pharmaceuticals Ltd' });
      expect(amp.codes.SUPPCD).toEqual({
        list: 'SUPPLIER',
        code: '3144701000001104',
        description: 'A A H Pharmaceuticals Ltd',
      });

      // An AMPP: its own supplier, its AMP parent's, and none on its VMPP parent.
      const ampp = (await get(`/medicines/concepts/${NUTRISON_AMPP}`)).json<Json & { parents: Json[] }>();
      expect(ampp.supplier).toBe('Nutricia Ltd');
      expect(ampp.parents).toEqual([
        {
          type: 'AMP',
          id: '442611000001109',
          name: 'Nutrison liquid',
          invalid: false,
          supplier: 'Nutricia Ltd',
        },
        { type: 'VMPP', id: expect.any(String), name: expect.any(String), invalid: false },
      ]);
      const nutricia = (await get('/medicines/concepts/442611000001109')).json<{ children: Json[] }>();
      expect(nutricia.children.every((c) => c.type === 'AMPP' && c.supplier === 'Nutricia Ltd')).toBe(true);
      expect(nutricia.children.length).toBeGreaterThan(0);

      const hits = (await get('/medicines/search?q=adenosine%206mg&limit=50')).json<{ hits: Json[] }>().hits;
      expect(hits.find((h) => h.id === AAH_ADENOSINE_AMP)?.supplier).toBe('A A H Pharmaceuticals Ltd');
      expect(hits.find((h) => h.id === ADENOSINE_VMP)?.supplier).toBeNull();
      const packs = (await get('/medicines/search?q=nutrison&type=AMPP')).json<{ hits: Json[] }>().hits;
      expect(packs.length).toBeGreaterThan(0);
      expect(packs.every((h) => typeof h.supplier === 'string' && h.supplier !== '')).toBe(true);
    });

    it('JSON concept: `codes` decodes the lookup-coded elements of the concept’s row (NHSBSA dm+d lookup file)', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const body = (await get(`/medicines/concepts/${DICLOFENAC_VMP}`)).json<{ codes: Json }>();
      // f_vmp: BASISCD 0001, BASIS_PREVCD 0001, NMCHANGECD 0004, PRES_STATCD 0001, DF_INDCD 2.
      expect(body.codes).toEqual({
        BASISCD: {
          list: 'BASIS_OF_NAME',
          code: '0001',
          description: 'rINN - Recommended International Non-proprietary',
        },
        BASIS_PREVCD: {
          list: 'BASIS_OF_NAME',
          code: '0001',
          description: 'rINN - Recommended International Non-proprietary',
        },
        NMCHANGECD: { list: 'NAMECHANGE_REASON', code: '0004', description: 'Other' },
        PRES_STATCD: {
          list: 'VIRTUAL_PRODUCT_PRES_STATUS',
          code: '0001',
          description: 'Valid as a prescribable product',
        },
        DF_INDCD: { list: 'DF_INDICATOR', code: '2', description: 'Continuous' },
      });
    });

    it('JSON releases: the active release and the history, with the source’s name only', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const body = (await get('/medicines/releases')).json<{ active: Json; history: Json[] }>();
      expect(body.active).toMatchObject({
        status: 'active',
        releaseDate: '2019-04-01',
        source: 'openprescribing-2019-04-01',
      });
      expect(body.history.map((r) => r.id)).toContain(body.active.id);
      expect(JSON.stringify(body)).not.toContain(dirname(OP_2019));
    });

    it('lets patients at any proofing level and every known role in; refuses and audits the rest', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const before = (await auditRows()).length;
      const url = `/fhir/R4/Medication/${DICLOFENAC_VMP}`;
      for (const principal of [patient('P0'), patient('P9'), clinician('R8009'), clinician('R8004')]) {
        const token = await sessionFor(t.store, principal, now);
        expect((await get(url, { authorization: `Bearer ${token}` })).statusCode).toBe(200);
      }
      // Allowed reads of reference data are not audited.
      expect(await auditRows()).toHaveLength(before);

      const none = await get(url, {});
      expect(none.statusCode).toBe(401);
      expect(issue(none.json())?.details?.coding?.[0]?.code).toBe('ACCESS_DENIED');
      const patientKey = (await createApiKey(t.store, { name: 'pds-only', scopes: ['patient:read'] })).secret;
      for (const route of [
        url,
        '/fhir/R4/Medication?_text=diclofenac',
        `/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=${DICLOFENAC_VMP}`,
        '/medicines/search?q=diclofenac',
        `/medicines/concepts/${DICLOFENAC_VMP}`,
        '/medicines/releases',
      ]) {
        const res = await get(route, { authorization: `Bearer ${patientKey}` });
        expect(res.statusCode, route).toBe(403);
        expect(issue(res.json())?.diagnostics, route).toContain('medicines:read');
      }
      const unknownRole = await sessionFor(t.store, clinician('R9999'), now);
      expect((await get(url, { authorization: `Bearer ${unknownRole}` })).statusCode).toBe(403);

      const denials = (await auditRows()).slice(before);
      expect(denials).toHaveLength(8);
      for (const row of denials) {
        expect(row).toMatchObject({ action: 'medicine.read', outcome: 'denied', nhs_numbers: '[]' });
      }
      expect(denials[0]?.http_status).toBe(401);
    });

    it('documents every route and its filters in the OpenAPI', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const spec = (await get('/openapi.json', {})).json<{
        paths: Record<
          string,
          Record<string, { tags?: string[]; parameters?: { name: string }[]; security?: unknown }>
        >;
      }>();
      for (const path of [
        '/fhir/R4/Medication/{id}',
        '/fhir/R4/Medication',
        '/fhir/R4/CodeSystem/$lookup',
        '/medicines/search',
        '/medicines/concepts/{code}',
        '/medicines/releases',
      ]) {
        const op = spec.paths[path]?.get;
        expect(op?.tags, path).toEqual(['Medicines']);
        expect(op?.security, path).toBeTruthy();
      }
      const names = spec.paths['/fhir/R4/Medication']?.get?.parameters?.map((p) => p.name) ?? [];
      for (const name of [
        'code',
        '_text',
        'type',
        'kind',
        'prescribable',
        'available',
        'include-invalid',
        'controlled',
        'form',
        'route',
        '_count',
      ]) {
        expect(names).toContain(name);
      }
    });

    it('keeps answering from the active release while another is imported, then switches', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      // The second release: the sample with the diclofenac VMP's VPID changed to 12345 (VPIDPREV = old).
      const dir = await mkdtemp(join(tmpdir(), 'junction-dmd-routes-'));
      temp.push(dir);
      for (const name of await readdir(OP_2019)) await copyFile(join(OP_2019, name), join(dir, name));
      for (const name of await readdir(OP_2019_CHANGED))
        await copyFile(join(OP_2019_CHANGED, name), join(dir, name));

      const first = (await get('/medicines/releases')).json<{ active: { id: number } }>().active.id;
      const vmpIdOfDiclofenac = async () => {
        const res = await get('/medicines/search?q=diclofenac%202.32%25%20gel&type=VMP');
        const body = res.json<{ release: { id: number }; hits: Json[] }>();
        return { release: body.release.id, id: body.hits[0]?.id };
      };
      expect(await vmpIdOfDiclofenac()).toEqual({ release: first, id: DICLOFENAC_VMP });

      const statusOf = async (id: number) =>
        (await t.store.db.selectFrom('dmd_releases').select('status').where('id', '=', id).executeTakeFirst())
          ?.status;
      let second: number | undefined;
      const during: Promise<{ release: number; id: unknown; importing: boolean }>[] = [];
      const importing = importDmdRelease(t.store, dir, {
        retainPreviousMs: 500,
        batchRows: 200,
        progressIntervalMs: 0,
        onProgress: () => {
          // Each progress report asks the hub mid-import and notes whether the switch had happened by the answer.
          during.push(
            (async () => {
              const answer = await vmpIdOfDiclofenac();
              second ??= (
                await t.store.db
                  .selectFrom('dmd_releases')
                  .select('id')
                  .where('status', '=', 'importing')
                  .executeTakeFirst()
              )?.id;
              return {
                ...answer,
                importing: second !== undefined && (await statusOf(second)) === 'importing',
              };
            })(),
          );
        },
      });
      const summary = await importing;
      const answers = await Promise.all(during);
      const beforeSwitch = answers.filter((a) => a.importing);
      expect(beforeSwitch.length, 'answers received while the import ran').toBeGreaterThan(0);
      for (const a of beforeSwitch)
        expect(a).toEqual({ release: first, id: DICLOFENAC_VMP, importing: true });

      expect(summary.replaced).toBe(first);
      expect(await vmpIdOfDiclofenac()).toEqual({ release: summary.releaseId, id: '12345' });
      // The old id now resolves through VPIDPREV to the new concept.
      const read = await get(`/fhir/R4/Medication/${DICLOFENAC_VMP}`);
      expect(read.json<Medication>().id).toBe('12345');
    });
  });
});

describe('normalisedScores', () => {
  const hit = (score: number) => ({ score }) as never;
  it('maps the best level to 1, equal levels to equal scores, all within (0, 1]', () => {
    expect(normalisedScores([hit(1e9), hit(7), hit(7), hit(3)])).toEqual([1, 0.6667, 0.6667, 0.3333]);
    expect(normalisedScores([hit(4)])).toEqual([1]);
    expect(normalisedScores([])).toEqual([]);
  });
});
