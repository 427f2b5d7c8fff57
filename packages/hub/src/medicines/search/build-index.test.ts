import { describe, expect, it } from 'vitest';
import { syntheticSearchEntries } from '../../testing/dmd-search-entries.js';
import type { DmdSearchEntry } from '../model.js';
import { buildDmdSearchIndex, INLINE_AMPS } from './build-index.js';
import { measureSearchLatency } from './measure-latency.js';
import { tokenise } from './tokenise.js';

// Codes: FORM/ROUTE SCTIDs from the dm+d lookup file (f_lookup2, NHSBSA dm+d data model §4).
const TABLET = '385055001';
const CAPSULE = '385049006';
const SUSPENSION = '385024007';
const ORAL = '26643006';
const CUTANEOUS = '6064005';

let seq = 0;
function entry(
  type: DmdSearchEntry['type'],
  name: string,
  more: Partial<DmdSearchEntry> = {},
): DmdSearchEntry {
  seq++;
  return {
    type,
    id: more.id ?? `${900000000 + seq}`,
    name,
    abbreviatedName: null,
    description: type === 'AMP' ? `${name} (Supplier ${seq} Ltd)` : null,
    invalid: false,
    kind: 'medicine',
    prescribable: true,
    available: true,
    controlledDrugCategory: '0000',
    formCode: null,
    routeCodes: [],
    vmpId: null,
    vtmId: null,
    packCount: 1,
    ...more,
  };
}

const fixture: DmdSearchEntry[] = [
  entry('VTM', 'Amoxicillin', { id: '372687004', packCount: 60 }),
  entry('VMP', 'Amoxicillin 500mg capsules', {
    id: '323509004',
    formCode: CAPSULE,
    routeCodes: [ORAL],
    packCount: 20,
    abbreviatedName: 'Amoxicillin 500mg caps',
  }),
  entry('AMP', 'Amoxicillin 500mg capsules', {
    vmpId: '323509004',
    formCode: CAPSULE,
    routeCodes: [ORAL],
    packCount: 3,
  }),
  entry('AMP', 'Amoxicillin 500mg capsules', {
    vmpId: '323509004',
    formCode: CAPSULE,
    routeCodes: [ORAL],
    packCount: 2,
  }),
  entry('AMP', 'Amoxil 500mg capsules', {
    vmpId: '323509004',
    formCode: CAPSULE,
    routeCodes: [ORAL],
    packCount: 1,
  }),
  entry('VMPP', 'Amoxicillin 500mg capsules 21 capsule', { vmpId: '323509004', packCount: 5 }),
  entry('AMPP', 'Amoxicillin 500mg capsules (Teva UK Ltd) 21 capsule', { vmpId: '323509004', packCount: 1 }),
  // Same match quality for "amoxicillin 500" as the capsules, far fewer packs (injections have few
  // suppliers). Its AMP must not come before the capsule AMPs.
  entry('VMP', 'Amoxicillin 500mg powder for solution for injection vials', {
    id: '323520003',
    formCode: '385223009',
    routeCodes: ['47625008'],
    packCount: 3,
  }),
  entry('AMP', 'Amoxicillin 500mg powder for solution for injection vials', {
    vmpId: '323520003',
    formCode: '385223009',
    routeCodes: ['47625008'],
    packCount: 3,
  }),
  entry('VMP', 'Amoxicillin 250mg capsules', {
    id: '323510009',
    formCode: CAPSULE,
    routeCodes: [ORAL],
    packCount: 15,
  }),
  entry('VMP', 'Amoxicillin 500mg/5ml oral suspension', {
    id: '324000001',
    formCode: SUSPENSION,
    routeCodes: [ORAL],
    packCount: 25,
  }),
  entry('AMP', 'Amoxicillin 500mg/5ml oral suspension', {
    vmpId: '324000001',
    formCode: SUSPENSION,
    routeCodes: [ORAL],
    packCount: 4,
  }),
  entry('VMP', 'Amoxicillin 250mg/5ml oral suspension sugar free', {
    formCode: SUSPENSION,
    routeCodes: [ORAL],
    packCount: 8,
    abbreviatedName: 'Amoxicillin 250mg/5ml oral susp SF',
  }),
  entry('VMP', 'Amoxicillin 3g oral powder sachets sugar free', { packCount: 2 }),
  entry('VTM', 'Co-amoxiclav', { packCount: 30 }),
  entry('VMP', 'Co-amoxiclav 500mg/125mg tablets', { formCode: TABLET, routeCodes: [ORAL], packCount: 30 }),
  entry('VTM', 'Paracetamol', { packCount: 100 }),
  entry('VMP', 'Paracetamol 500mg tablets', {
    formCode: TABLET,
    routeCodes: [ORAL],
    packCount: 80,
    abbreviatedName: 'Paracetamol 500mg tabs',
  }),
  entry('VMP', 'Paracetamol 500mg soluble tablets', { formCode: TABLET, routeCodes: [ORAL], packCount: 10 }),
  entry('VMP', 'Paracetamol 120mg/5ml oral suspension paediatric', {
    formCode: SUSPENSION,
    routeCodes: [ORAL],
    packCount: 40,
  }),
  entry('VMP', 'Paracetamol 10mg/ml solution for infusion vials', { prescribable: false, packCount: 5 }),
  entry('VMP', 'Paracetamol 500mg tablets blister pack', { invalid: true, packCount: 0 }),
  entry('VTM', 'Diclofenac', { packCount: 20 }),
  entry('VMP', 'Diclofenac 75mg modified-release tablets', {
    formCode: TABLET,
    routeCodes: [ORAL],
    packCount: 6,
  }),
  entry('AMP', 'Voltarol 75mg SR tablets', { formCode: TABLET, routeCodes: [ORAL], packCount: 2 }),
  entry('AMP', 'Voltarol Emulgel P 1.16% gel', { routeCodes: [CUTANEOUS], packCount: 3 }),
  entry('VMP', 'Diclofenac 1.16% gel', { routeCodes: [CUTANEOUS], packCount: 9 }),
  entry('VMP', 'Diclofenac 50mg gastro-resistant tablets', {
    formCode: TABLET,
    routeCodes: [ORAL],
    packCount: 7,
  }),
  entry('VMP', 'Hydrocortisone 0.5% cream', { routeCodes: [CUTANEOUS], packCount: 3 }),
  entry('VMP', 'Nystatin 100,000units/ml oral suspension', {
    formCode: SUSPENSION,
    routeCodes: [ORAL],
    packCount: 3,
  }),
  entry('VTM', 'Morphine', { controlledDrugCategory: '0002', packCount: 12 }),
  entry('VMP', 'Morphine 10mg modified-release tablets', {
    controlledDrugCategory: '0002',
    formCode: TABLET,
    routeCodes: [ORAL],
    packCount: 6,
  }),
  entry('VMP', 'Morphine 10mg/5ml oral solution', {
    controlledDrugCategory: '0005',
    routeCodes: [ORAL],
    packCount: 5,
  }),
  entry('VMP', 'Intermittent self-catheter female Ch12', {
    kind: 'device',
    controlledDrugCategory: null,
    packCount: 4,
  }),
  entry('VMP', 'Crêpe bandage 7.5cm x 4.5m', {
    kind: 'device',
    controlledDrugCategory: null,
    available: false,
    packCount: 0,
  }),
];

const index = buildDmdSearchIndex(fixture);
const names = (query: string, options?: Parameters<typeof index.search>[1]) =>
  index.search(query, options).map((h) => `${h.entry.type} ${h.entry.name}`);

describe('tokenise', () => {
  it('folds case, diacritics, plurals, units and strength spacing', () => {
    expect(tokenise('Crêpe BANDAGES 500 mg/5ml').map((w) => w.token)).toEqual([
      'crepe',
      'bandage',
      '500mg/5ml',
    ]);
    expect(tokenise('100,000units/ml 250 micrograms 0.5 %').map((w) => w.token)).toEqual([
      '100000unit/ml',
      '250microgram',
      '0.5%',
    ]);
    expect(tokenise('Co-amoxiclav m/r')).toEqual([
      { token: 'co', extra: ['coamoxiclav'] },
      { token: 'amoxiclav', extra: [] },
      { token: 'mr', extra: [] },
    ]);
    expect(tokenise('glass ferrous patches').map((w) => w.token)).toEqual(['glass', 'ferrous', 'patch']);
  });
});

describe('buildDmdSearchIndex', () => {
  it('counts entries, looks up by id and rejects duplicate ids', () => {
    expect(index.size).toBe(fixture.length);
    expect(index.byId('323509004')?.name).toBe('Amoxicillin 500mg capsules');
    expect(index.byId('1')).toBeUndefined();
    expect(() => buildDmdSearchIndex([fixture[0]!, fixture[0]!])).toThrow(/duplicate/);
  });

  it('matches every word by prefix, in any order, ignoring case and punctuation', () => {
    expect(names('para')[0]).toBe('VMP Paracetamol 500mg tablets');
    expect(names('amox')[0]).toBe('VMP Amoxicillin 500mg/5ml oral suspension');
    expect(names('TABLETS, paracetamol 500')[0]).toBe('VMP Paracetamol 500mg tablets');
    expect(names('paracetamol 500 capsules')).toEqual([]);
    expect(names('crepe')).toEqual(['VMP Crêpe bandage 7.5cm x 4.5m']);
  });

  it('forgives plurals', () => {
    expect(names('amoxicillin capsule')).toContain('VMP Amoxicillin 500mg capsules');
    expect(names('amoxicillin sachet')).toEqual(['VMP Amoxicillin 3g oral powder sachets sugar free']);
    expect(names('paracetamol tablet')).toContain('VMP Paracetamol 500mg tablets');
  });

  it('matches strengths: a number finds its unit forms, a strength itself whole or as a numerator', () => {
    expect(names('amoxicillin 500')).toContain('VMP Amoxicillin 500mg/5ml oral suspension');
    expect(names('amoxicillin 500mg')).toContain('VMP Amoxicillin 500mg capsules');
    expect(names('amoxicillin 500mg')).toContain('VMP Amoxicillin 500mg/5ml oral suspension');
    expect(names('amoxicillin 250mg/5ml')).toEqual(['VMP Amoxicillin 250mg/5ml oral suspension sugar free']);
    expect(names('hydrocortisone 0.5%')).toEqual(['VMP Hydrocortisone 0.5% cream']);
    expect(names('hydrocortisone 0.5 %')).toEqual(['VMP Hydrocortisone 0.5% cream']);
    expect(names('nystatin 100000 units')).toEqual(['VMP Nystatin 100,000units/ml oral suspension']);
    expect(names('amoxicillin 50mg')).toEqual([]);
  });

  it('expands prescriber abbreviations', () => {
    expect(names('amox 500 caps')[0]).toBe('VMP Amoxicillin 500mg capsules');
    expect(names('para tabs')[0]).toBe('VMP Paracetamol 500mg tablets');
    expect(names('amox susp sf')).toEqual(['VMP Amoxicillin 250mg/5ml oral suspension sugar free']);
    expect(names('diclofenac mr')).toEqual(['VMP Diclofenac 75mg modified-release tablets']);
    expect(names('diclofenac m/r')).toEqual(['VMP Diclofenac 75mg modified-release tablets']);
    expect(names('diclofenac ec')).toEqual(['VMP Diclofenac 50mg gastro-resistant tablets']);
    expect(names('morphine 10 soln')).toEqual(['VMP Morphine 10mg/5ml oral solution']);
  });

  it('ranks the capsules VMP then its AMPs for "amoxicillin 500", then the vials, then the suspension', () => {
    const hits = index.search('amoxicillin 500');
    const order = hits.map((h) => `${h.entry.type} ${h.entry.name}`);
    // The vials AMP has as many packs as a capsule AMP, but AMPs follow their own VMP.
    expect(order).toEqual([
      'VMP Amoxicillin 500mg capsules',
      'AMP Amoxicillin 500mg capsules',
      'AMP Amoxicillin 500mg capsules',
      'VMP Amoxicillin 500mg powder for solution for injection vials',
      'AMP Amoxicillin 500mg powder for solution for injection vials',
      'VMP Amoxicillin 500mg/5ml oral suspension',
      'AMP Amoxicillin 500mg/5ml oral suspension',
    ]);
    // More packs first among equal AMPs.
    expect(hits[1]?.entry.packCount).toBe(3);
    expect(order).not.toContain('VMP Amoxicillin 3g oral powder sachets sugar free');
    // The sachets are last when nothing but the molecule is typed.
    const all = names('amoxicillin');
    expect(all[0]).toBe('VTM Amoxicillin');
    expect(all.indexOf('VMP Amoxicillin 500mg capsules')).toBeLessThan(
      all.indexOf('VMP Amoxicillin 3g oral powder sachets sugar free'),
    );
  });

  it('puts a VTM first only when the query is exactly its name', () => {
    expect(names('paracetamol')[0]).toBe('VTM Paracetamol');
    expect(names('paracetamo')[0]).toBe('VMP Paracetamol 500mg tablets');
    expect(names('paracetamo')).toContain('VTM Paracetamol');
    expect(names('co-amoxiclav')[0]).toBe('VTM Co-amoxiclav');
    expect(names('coamoxiclav')[0]).toBe('VTM Co-amoxiclav');
    expect(names('amoxiclav')[0]).toBe('VMP Co-amoxiclav 500mg/125mg tablets');
  });

  it('prefers names that start with the first word, and whole words over prefixes', () => {
    // "amox" starts Amoxicillin but is inside co-amoxiclav.
    expect(names('amox').indexOf('VMP Co-amoxiclav 500mg/125mg tablets')).toBeGreaterThan(
      names('amox').indexOf('VMP Amoxicillin 3g oral powder sachets sugar free'),
    );
    const gel = index.search('diclofenac gel');
    expect(gel[0]?.entry.name).toBe('Diclofenac 1.16% gel');
  });

  it("ranks a brand's AMPs first for a brand name and reports which text matched", () => {
    const hits = index.search('voltarol');
    expect(hits.map((h) => h.entry.name)).toEqual([
      'Voltarol Emulgel P 1.16% gel',
      'Voltarol 75mg SR tablets',
    ]);
    expect(hits[0]?.matched).toBe('name');
    expect(index.search('amoxicillin supplier 3')[0]?.matched).toBe('description');
    expect(index.search('amoxicillin 500 caps')[0]?.matched).toBe('name');
    expect(index.search('amox caps sf')).toEqual([]);
  });

  it('returns the entry with a typed id first', () => {
    const hits = index.search('323509004');
    expect(hits[0]?.entry.id).toBe('323509004');
    expect(hits[0]?.matched).toBe('id');
  });

  it('applies every filter', () => {
    expect(names('amoxicillin 500mg capsules 21')).toEqual([]);
    expect(names('amoxicillin 500mg capsules 21', { types: ['VMPP', 'AMPP'] })).toEqual([
      'VMPP Amoxicillin 500mg capsules 21 capsule',
      'AMPP Amoxicillin 500mg capsules (Teva UK Ltd) 21 capsule',
    ]);
    expect(names('amoxicillin 500', { types: ['AMP'] }).every((n) => n.startsWith('AMP '))).toBe(true);
    // A lone one- or two-letter word only matches the start of a name.
    expect(names('c', { kind: 'device' })).toEqual(['VMP Crêpe bandage 7.5cm x 4.5m']);
    expect(names('cat', { kind: 'device' })).toEqual(['VMP Intermittent self-catheter female Ch12']);
    expect(names('crepe', { kind: 'medicine' })).toEqual([]);
    expect(names('crepe', { availableOnly: true })).toEqual([]);
    expect(names('paracetamol 10mg')).toContain('VMP Paracetamol 10mg/ml solution for infusion vials');
    expect(names('paracetamol 10mg', { prescribableOnly: true })).toEqual([]);
    expect(names('paracetamol blister')).toEqual([]);
    expect(names('paracetamol blister', { includeInvalid: true })).toEqual([
      'VMP Paracetamol 500mg tablets blister pack',
    ]);
    expect(names('morphine', { controlledOnly: true })).toEqual([
      'VTM Morphine',
      'VMP Morphine 10mg modified-release tablets',
      'VMP Morphine 10mg/5ml oral solution',
    ]);
    expect(names('paracetamol', { controlledOnly: true })).toEqual([]);
    expect(names('paracetamol', { formCode: SUSPENSION })).toEqual([
      'VMP Paracetamol 120mg/5ml oral suspension paediatric',
    ]);
    expect(names('diclofenac', { routeCode: CUTANEOUS })).toEqual(['VMP Diclofenac 1.16% gel']);
    expect(names('amoxicillin', { limit: 2 })).toHaveLength(2);
    expect(
      names('a', { limit: 1000, types: ['VTM', 'VMP', 'AMP', 'VMPP', 'AMPP'], includeInvalid: true }).length,
    ).toBeLessThanOrEqual(100);
    expect(index.search('amoxicillin')).toHaveLength(
      fixture.filter((e) => /amox/i.test(e.name) && ['VTM', 'VMP', 'AMP'].includes(e.type)).length - 3,
    );
  });
});

describe('at scale (synthetic release)', () => {
  const entries = syntheticSearchEntries({ seed: 11, scale: 0.05 });
  const big = buildDmdSearchIndex(entries);

  it("indexes every entry and finds the synthetic release's real molecules", () => {
    expect(big.size).toBe(entries.length);
    const kinds = big.search('amoxicillin 500').map((h) => `${h.entry.type} ${h.entry.name}`);
    // The capsules (many suppliers) and INLINE_AMPS of their AMPs, then the vials and their AMPs,
    // all on the first page; more capsule AMPs after.
    expect(kinds.slice(0, 1 + INLINE_AMPS)).toEqual([
      'VMP Amoxicillin 500mg capsules',
      ...Array<string>(INLINE_AMPS).fill('AMP Amoxicillin 500mg capsules'),
    ]);
    expect(kinds[1 + INLINE_AMPS]).toBe('VMP Amoxicillin 500mg powder for solution for injection vials');
    expect(kinds.length).toBe(20);
    expect(big.search('paracetamol 500 tabs')[0]?.entry.name).toMatch(/^Paracetamol 500mg tablets/);
    for (const h of big.search('morph', { controlledOnly: true }))
      expect(h.entry.controlledDrugCategory).not.toBe('0000');
  });

  it('counts every match, beyond the page a search returns', () => {
    const all = { types: ['VTM', 'VMP', 'AMP', 'VMPP', 'AMPP'] as const, includeInvalid: true };
    let cut = 0;
    for (const [query, options] of [
      ['amoxicillin', {}],
      ['amoxicillin 500', {}],
      ['para', { prescribableOnly: true }],
      ['morph', { controlledOnly: true }],
      ['dressing', all],
      ['zzzz', {}],
      ['a', {}],
    ] as const) {
      const total = big.count(query, options);
      const page = big.search(query, { ...options, limit: 100 });
      // Where the largest page holds every match, the count is its length: nothing more, nothing less.
      if (page.length < 100) expect(total, query).toBe(page.length);
      else expect(total, query).toBeGreaterThanOrEqual(100);
      if (total > 20) cut++;
      expect(big.search(query, options).length).toBe(Math.min(20, total));
    }
    expect(cut).toBeGreaterThanOrEqual(3);
  });

  it('reports latency percentiles', () => {
    const latency = measureSearchLatency(big, ['para', 'amox 500', 'morphine 10mg mr', 'dressing'], 2);
    expect(latency.samples).toBe(8);
    expect(latency.p50Ms).toBeLessThanOrEqual(latency.p99Ms);
    expect(latency.p99Ms).toBeLessThanOrEqual(latency.maxMs);
  });
});
