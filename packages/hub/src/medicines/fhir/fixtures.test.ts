import { beforeAll, describe, expect, it } from 'vitest';
import {
  COLORAMA_AMP,
  COLORAMA_AMPP_30G,
  coloramaAmppDetail,
  DICLOFENAC_ING,
  DICLOFENAC_VMP_DETAIL,
  DICLOFENAC_VTM,
  LOOKUP_ENTRIES,
  VMPP_30G_DETAIL,
  VOLTAROL_AMP,
  VOLTAROL_GTIN_30G,
  voltarolAmppDetail,
} from '../../testing/fhir/dmd-fixtures.js';
import { DMD_2019 } from '../../testing/reference.js';
import { readDmdFile } from '../read-release.js';
import type { DmdRecord } from '../records.js';
import { openDmdRelease } from '../release-files.js';

// The hand-written fixtures must be the real 2019-04-01 sample rows, as the release reader types them.
describe('fhir fixtures equal the sample release rows (openprescribing-2019-04-01)', () => {
  const records: DmdRecord[] = [];
  beforeAll(async () => {
    const release = await openDmdRelease(DMD_2019);
    for (const file of release.files) for await (const rec of readDmdFile(file)) records.push(rec);
  });
  /** The row of `section` in a `kind` file whose `key` field is `id` (exactly one must exist). */
  const row = (kind: string, section: string, key: string, id: string) => {
    const found = records.filter(
      (r) => r.kind === kind && r.section === section && (r.row as Record<string, unknown>)[key] === id,
    );
    expect(found, `${kind} ${section} ${key}=${id}`).toHaveLength(1);
    return found[0]?.row;
  };

  it('VTM, VMP and its VPI, DFORM, ONT, DROUTE, CONTROL_INFO rows, ingredient', () => {
    const vpid = DICLOFENAC_VMP_DETAIL.vmp.VPID;
    expect(row('vtm', 'VTM', 'VTMID', DICLOFENAC_VTM.VTMID)).toEqual(DICLOFENAC_VTM);
    expect(row('vmp', 'VMPS/VMP', 'VPID', vpid)).toEqual(DICLOFENAC_VMP_DETAIL.vmp);
    expect(row('vmp', 'VIRTUAL_PRODUCT_INGREDIENT/VPI', 'VPID', vpid)).toEqual(
      DICLOFENAC_VMP_DETAIL.ingredients[0]?.vpi,
    );
    expect(row('vmp', 'DRUG_FORM/DFORM', 'VPID', vpid)).toEqual(DICLOFENAC_VMP_DETAIL.form);
    expect(row('vmp', 'ONT_DRUG_FORM/ONT', 'VPID', vpid)).toEqual(DICLOFENAC_VMP_DETAIL.ontForms[0]);
    expect(row('vmp', 'DRUG_ROUTE/DROUTE', 'VPID', vpid)).toEqual(DICLOFENAC_VMP_DETAIL.routes[0]);
    expect(row('vmp', 'CONTROL_DRUG_INFO/CONTROL_INFO', 'VPID', vpid)).toEqual(DICLOFENAC_VMP_DETAIL.control);
    expect(row('ingredient', 'ING', 'ISID', DICLOFENAC_ING.ISID)).toEqual(DICLOFENAC_ING);
  });

  it('AMPs, VMPP with its Drug Tariff row, AMPPs with price, reimbursement and GTIN rows', () => {
    expect(row('amp', 'AMPS/AMP', 'APID', VOLTAROL_AMP.APID)).toEqual(VOLTAROL_AMP);
    expect(row('amp', 'AMPS/AMP', 'APID', COLORAMA_AMP.APID)).toEqual(COLORAMA_AMP);
    expect(row('vmpp', 'VMPPS/VMPP', 'VPPID', VMPP_30G_DETAIL.vmpp.VPPID)).toEqual(VMPP_30G_DETAIL.vmpp);
    expect(row('vmpp', 'DRUG_TARIFF_INFO/DTINFO', 'VPPID', VMPP_30G_DETAIL.vmpp.VPPID)).toEqual(
      VMPP_30G_DETAIL.drugTariff,
    );
    for (const d of [voltarolAmppDetail(), coloramaAmppDetail()]) {
      const id = d.ampp.APPID;
      expect(row('ampp', 'AMPPS/AMPP', 'APPID', id)).toEqual(d.ampp);
      expect(row('ampp', 'MEDICINAL_PRODUCT_PRICE/PRICE_INFO', 'APPID', id)).toEqual(d.priceInfo);
      expect(row('ampp', 'REIMBURSEMENT_INFO/REIMB_INFO', 'APPID', id)).toEqual(d.reimbursementInfo);
    }
    expect(row('ampp', 'AMPPS/AMPP', 'APPID', COLORAMA_AMPP_30G.APPID)).toEqual(COLORAMA_AMPP_30G);
    expect(row('gtin', 'AMPPS/AMPP/GTINDATA', 'AMPPID', VOLTAROL_GTIN_30G.AMPPID)).toEqual(VOLTAROL_GTIN_30G);
  });

  it('lookup entries are the release lookup descriptions', () => {
    for (const [list, code, desc] of LOOKUP_ENTRIES) {
      const entry = records.find(
        (r) => r.kind === 'lookup' && r.section === `${list}/INFO` && (r.row as { CD: string }).CD === code,
      );
      expect(entry?.row, `${list} ${code}`).toMatchObject({ CD: code, DESC: desc });
    }
  });
});
