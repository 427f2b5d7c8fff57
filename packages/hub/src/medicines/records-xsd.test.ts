import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DMD_2019 as XSD_DIR } from '../testing/reference.js';
import { DMD_SCHEMAS, type DmdFileKind } from './records.js';

// The record shapes must list exactly the elements the official XSDs define, with the same
// mandatory ones (minOccurs ≥ 1, or no minOccurs). XSDs: reference/refdata/dmd/openprescribing-2019-04-01.

const XSD_OF: Partial<Record<DmdFileKind, string>> = {
  vtm: 'vtm_v2_3.xsd',
  vmp: 'vmp_v2_3.xsd',
  amp: 'amp_v2_3.xsd',
  vmpp: 'vmpp_v2_3.xsd',
  ampp: 'ampp_v2_3.xsd',
  ingredient: 'ingredient_v2_3.xsd',
  lookup: 'lookup_v2_3.xsd',
  gtin: 'gtin_v2_0.xsd',
};

interface XsdField {
  name: string;
  mandatory: boolean;
}

function fieldsIn(block: string): XsdField[] {
  return [...block.matchAll(/<xs:element\s+([^>]*?)\/?>/g)].map((m) => {
    const attrs = m[1] as string;
    const name = /name="([^"]+)"/.exec(attrs)?.[1] as string;
    const min = /minOccurs="(\d+)"/.exec(attrs)?.[1];
    return { name, mandatory: min === undefined || Number(min) >= 1 };
  });
}

/** The fields of record element `record` (after the element `after`, when names repeat). */
function xsdRecordFields(xsd: string, record: string, after = ''): XsdField[] {
  const from = after ? xsd.indexOf(`<xs:element name="${after}"`) : 0;
  expect(from).toBeGreaterThanOrEqual(0);
  const rest = xsd.slice(from);
  const decl = new RegExp(`<xs:element\\s+name="${record}"([^>]*)>`).exec(rest);
  expect(decl, `<xs:element name="${record}"> in the XSD`).not.toBeNull();
  const type = /type="([^"]+)"/.exec(decl?.[1] ?? '')?.[1];
  if (type) {
    const block = new RegExp(`<xs:complexType name="${type}">([\\s\\S]*?)</xs:complexType>`).exec(xsd)?.[1];
    expect(block, `complexType ${type}`).toBeDefined();
    return fieldsIn(block ?? '');
  }
  const start = (decl?.index ?? 0) + (decl?.[0].length ?? 0);
  return fieldsIn(rest.slice(start, rest.indexOf('</xs:complexType>', start)));
}

function schemaFields(kind: DmdFileKind, section: string): XsdField[] {
  const schema = (DMD_SCHEMAS[kind] as Record<string, Record<string, string>>)[section] ?? {};
  return Object.entries(schema).map(([name, spec]) => ({ name, mandatory: spec.endsWith('!') }));
}

const byName = (a: XsdField, b: XsdField) => a.name.localeCompare(b.name);

describe('record shapes match the NHSBSA XSDs element for element', () => {
  const cases = Object.entries(XSD_OF).flatMap(([kind, xsd]) =>
    Object.keys(DMD_SCHEMAS[kind as DmdFileKind]).map(
      (section) => [kind as DmdFileKind, section, xsd] as const,
    ),
  );
  it.each(cases)('%s %s (%s)', (kind, section, xsdFile) => {
    const xsd = readFileSync(join(XSD_DIR, xsdFile), 'utf8');
    const parts = section.split('/');
    const record = parts[parts.length - 1] as string;
    let expected: XsdField[];
    if (kind === 'gtin') {
      // Flattened: GTINDATA's fields plus its AMPP's AMPPID.
      expected = [
        ...xsdRecordFields(xsd, 'AMPP').filter((f) => f.name !== 'GTINDATA'),
        ...xsdRecordFields(xsd, 'GTINDATA'),
      ];
    } else if (kind === 'lookup') {
      // One shape for all lists: each list's XSD fields must be in it, with the same mandatory ones.
      const own = xsdRecordFields(xsd, record, parts[0]);
      const shape = schemaFields(kind, section);
      for (const f of own) expect(shape).toContainEqual(f);
      expect(shape.filter((f) => f.mandatory).sort(byName)).toEqual(
        own.filter((f) => f.mandatory).sort(byName),
      );
      return;
    } else {
      expected = xsdRecordFields(xsd, record, parts.length > 1 ? parts[0] : '');
    }
    expect(schemaFields(kind, section).sort(byName)).toEqual(expected.sort(byName));
  });
});
