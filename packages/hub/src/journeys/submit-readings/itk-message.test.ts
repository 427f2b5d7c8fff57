import { readFileSync } from 'node:fs';
import type { Patient } from '@medplum/fhirtypes';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { pdfText } from '../../testing/pdf-text.js';
import { referencePath } from '../../testing/reference.js';
import { buildItkAck, ItkAckParseError, parseItkAck } from './itk-ack.js';
import { buildSendDocumentMessage, type SendDocumentInput } from './itk-message.js';
import { validateSubmission } from './validate.js';

// The published example (nhsconnect/gpconnect-messaging, vendored in reference/).
const EXAMPLE = referencePath('specs/gpconnect/send-document/senddocument/consultation_report.xml');

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}
function tree(xml: string): Node {
  const p = new SaxesParser({ xmlns: true });
  const stack: Node[] = [];
  let root: Node | undefined;
  p.on('opentag', (t) => {
    const n: Node = { name: t.local, attrs: {}, children: [], text: '' };
    for (const [k, a] of Object.entries(t.attributes)) n.attrs[k] = typeof a === 'string' ? a : a.value;
    stack.at(-1)?.children.push(n);
    root ??= n;
    stack.push(n);
  });
  p.on('text', (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  });
  p.on('closetag', () => stack.pop());
  p.write(xml).close();
  if (!root) throw new Error('empty');
  return root;
}
const kid = (n: Node | undefined, name: string) => n?.children.find((c) => c.name === name);
const val = (n: Node | undefined, name: string) => kid(n, name)?.attrs.value;
const resources = (bundle: Node) =>
  bundle.children.filter((c) => c.name === 'entry').map((e) => kid(e, 'resource')?.children[0] as Node);

function exampleTree(): Node {
  // The published file is wrapped in Jekyll {% highlight %} tags and has a comment written `<!---`.
  const raw = readFileSync(EXAMPLE, 'utf8');
  return tree(raw.slice(raw.indexOf('<Bundle'), raw.lastIndexOf('</Bundle>') + '</Bundle>'.length));
}

const NOW = new Date('2025-03-01T12:00:00Z');
const vitals = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];
const subject = { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } };
const submission = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: vitals,
        code: {
          coding: [
            { system: 'http://loinc.org', code: '85354-9' },
            { system: 'http://snomed.info/sct', code: '75367002' },
          ],
        },
        subject,
        effectiveDateTime: '2025-03-01T08:30:00+00:00',
        device: { display: 'Cuff <A&B>' },
        component: [
          {
            code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
            valueQuantity: { value: 128, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
          },
          {
            code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
            valueQuantity: { value: 82, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
          },
        ],
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: vitals,
        code: {
          coding: [
            { system: 'http://loinc.org', code: '2708-6' },
            { system: 'http://snomed.info/sct', code: '431314004' },
          ],
        },
        subject,
        effectiveDateTime: '2025-03-01T08:31:00+00:00',
        valueQuantity: { value: 97, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      },
    },
  ],
};
const result = validateSubmission(submission, { now: NOW });
if (!result.ok) throw new Error('fixture invalid');

const patient: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }],
  name: [{ use: 'usual', family: "O'Smith<&>", given: ['Jane'], prefix: ['Mrs'] }],
  gender: 'female',
  birthDate: '2010-10-22',
  generalPractitioner: [
    { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' } },
  ],
};
const u = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const input: SendDocumentInput = {
  readings: result.readings,
  patient,
  sender: {
    productName: 'Acme Telehealth',
    organisationOds: 'X26',
    organisationName: 'Acme Health',
    meshMailbox: 'X26OT001',
  },
  recipient: { practiceOds: 'Y12345', meshMailbox: 'Y12345OT001' },
  ids: {
    messageBundleId: u(1),
    messageId: u(2),
    messageHeaderId: u(3),
    headerOrganizationId: u(4),
    documentBundleId: u(5),
    compositionId: u(6),
    binaryId: u(7),
    patientId: u(8),
    organizationId: u(9),
    authorId: u(10),
    senderReference: u(11),
    createdAt: '2025-03-01T12:00:00+00:00',
  },
};

// STU3 element order (hl7.org/fhir/STU3 resource definitions) for the elements these messages use.
const STU3_ORDER: Record<string, string[]> = {
  Bundle: ['id', 'meta', 'identifier', 'type', 'total', 'link', 'entry', 'signature'],
  MessageHeader: [
    'id',
    'meta',
    'text',
    'extension',
    'event',
    'destination',
    'receiver',
    'sender',
    'timestamp',
    'enterer',
    'author',
    'source',
    'responsible',
    'reason',
    'response',
    'focus',
  ],
  Composition: [
    'id',
    'meta',
    'text',
    'extension',
    'identifier',
    'status',
    'type',
    'class',
    'subject',
    'encounter',
    'date',
    'author',
    'title',
    'confidentiality',
    'attester',
    'custodian',
    'relatesTo',
    'event',
    'section',
  ],
  Binary: ['id', 'meta', 'contentType', 'securityContext', 'content'],
  Organization: ['id', 'meta', 'identifier', 'active', 'type', 'name', 'alias', 'telecom', 'address'],
  Patient: [
    'id',
    'meta',
    'identifier',
    'active',
    'name',
    'telecom',
    'gender',
    'birthDate',
    'address',
    'generalPractitioner',
  ],
  Practitioner: ['id', 'meta', 'identifier', 'active', 'name', 'telecom'],
  Device: [
    'id',
    'meta',
    'identifier',
    'udi',
    'status',
    'type',
    'lotNumber',
    'manufacturer',
    'manufactureDate',
    'expirationDate',
    'model',
    'version',
    'patient',
    'owner',
  ],
};
function orderProblems(n: Node): string[] {
  const order = STU3_ORDER[n.name];
  const out: string[] = [];
  if (order) {
    const idx = n.children.map((c) => order.indexOf(c.name));
    idx.forEach((v, i) => {
      if (v < 0) out.push(`${n.name}.${n.children[i]?.name} unknown`);
      else if (i > 0 && v < (idx[i - 1] as number)) out.push(`${n.name}.${n.children[i]?.name} out of order`);
    });
  }
  for (const c of n.children) {
    if (c.name === 'entry' || c.name === 'resource' || n.name === 'resource') out.push(...orderProblems(c));
  }
  return [...new Set(out)];
}

describe('buildSendDocumentMessage (GP Connect Send Document, ITK3 2.5.0, STU3 XML)', () => {
  const { xml, mesh } = buildSendDocumentMessage(input);
  const root = tree(xml);

  it('is deterministic for the same injected ids and times', () => {
    expect(buildSendDocumentMessage(input).xml).toBe(xml);
  });

  it('has the example message shape: Bundle(message) → MessageHeader, header Organization, document Bundle', () => {
    const example = exampleTree();
    const names = (b: Node) => resources(b).map((r) => r.name);
    expect(names(root)).toEqual(names(example));
    expect(val(root, 'type')).toBe('message');
    expect(val(kid(root, 'meta'), 'profile')).toBe(val(kid(example, 'meta'), 'profile'));
    const [doc, exDoc] = [resources(root)[2] as Node, resources(example)[2] as Node];
    expect(val(doc, 'type')).toBe('document');
    // Same resources in the document, except the author: a Device for a product (the example's is a GP Practitioner).
    expect(names(doc)).toEqual(names(exDoc).map((n) => (n === 'Practitioner' ? 'Device' : n)));
  });

  it('MessageHeader carries the ITK handling extensions in the example order, ITK007C, source = sender mailbox, focus', () => {
    const header = resources(root)[0] as Node;
    const exHeader = resources(exampleTree())[0] as Node;
    const urls = (h: Node) => (kid(h, 'extension') as Node).children.map((c) => c.attrs.url);
    expect(urls(header)).toEqual(urls(exHeader));
    const handling = kid(header, 'extension') as Node;
    const ext = (url: string) => handling.children.find((c) => c.attrs.url === url) as Node;
    expect(val(ext('BusAckRequested'), 'valueBoolean')).toBe('true');
    expect(val(kid(ext('RecipientType'), 'valueCoding'), 'code')).toBe('FA');
    expect(val(kid(ext('MessageDefinition'), 'valueReference'), 'reference')).toBe(
      'https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1',
    );
    expect(val(ext('SenderReference'), 'valueString')).toBe(input.ids.senderReference);
    expect(val(ext('LocalExtension'), 'valueString')).toBe('SendDocument-ConsultationReport'); // GPCM-SD-044
    expect(val(kid(header, 'event'), 'code')).toBe('ITK007C');
    expect(val(kid(header, 'source'), 'endpoint')).toBe('X26OT001');
    expect(kid(header, 'destination')).toBeUndefined(); // GPCM-SD-049
    expect(val(kid(header, 'focus'), 'reference')).toBe(`urn:uuid:${input.ids.documentBundleId}`);
  });

  it('every element the example uses is present, bar documented optional ones', () => {
    const paths = (n: Node, prefix: string, out: Set<string>) => {
      for (const c of n.children) {
        if (c.name === 'div') continue;
        const p = `${prefix}.${c.name === 'resource' ? `resource(${c.children[0]?.name})` : c.name}`;
        out.add(p);
        paths(c, p, out);
      }
      return out;
    };
    const ours = paths(root, 'Bundle', new Set());
    const theirs = [...paths(exampleTree(), 'Bundle', new Set())].filter(
      (p) => !p.includes('Practitioner') && !p.includes('telecom') && !p.endsWith('.prefix'),
    );
    expect(theirs.filter((p) => !ours.has(p))).toEqual([]);
  });

  it('follows the STU3 element order everywhere; the example breaks it only where documented', () => {
    expect(orderProblems(root)).toEqual([]);
    expect(orderProblems(exampleTree()).sort()).toEqual(
      [
        'MessageHeader.event out of order', // the example puts source before event
        // the example has date, confidentiality, title, then text before subject/author/custodian
        'Composition.title out of order',
        'Composition.text out of order',
      ].sort(),
    );
  });

  it('escapes everything and embeds the readings table in the section narrative', () => {
    expect(xml).not.toContain("O'Smith<&>");
    const doc = resources(root)[2] as Node;
    const composition = resources(doc)[0] as Node;
    const section = kid(composition, 'section') as Node;
    const div = kid(kid(section, 'text'), 'div') as Node;
    const cells = JSON.stringify(div);
    expect(cells).toContain('128/82');
    expect(cells).toContain('Cuff <A&B>'); // decoded text equals the input: it was escaped in the XML
    const pat = resources(doc).find((r) => r.name === 'Patient') as Node;
    expect(val(kid(pat, 'identifier'), 'value')).toBe('9000000009');
    expect(val(pat, 'birthDate')).toBe('2010-10-22');
  });

  /** The document Bundle's Binary and the PDF it carries. */
  const attachment = () => {
    const doc = resources(root)[2] as Node;
    const entries = doc.children.filter((c) => c.name === 'entry');
    const binaryEntry = entries.find((e) => kid(e, 'resource')?.children[0]?.name === 'Binary') as Node;
    const binary = kid(binaryEntry, 'resource')?.children[0] as Node;
    return { doc, binaryEntry, binary, pdf: Buffer.from(val(binary, 'content') as string, 'base64') };
  };

  it('attaches the consultation report as a PDF Binary (application/pdf, base64) referenced by the first section.entry, as the example (GPCM-SD-124, -022, -021)', () => {
    const { doc, binaryEntry, binary, pdf } = attachment();
    const exBinary = resources(resources(exampleTree())[2] as Node)[1] as Node;
    expect(binary.name).toBe(exBinary.name);
    expect(val(binary, 'contentType')).toBe('application/pdf');
    expect(val(binary, 'contentType')).toBe(val(exBinary, 'contentType'));
    expect(val(kid(binary, 'meta'), 'profile')).toBe(
      'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1',
    );
    expect(val(binary, 'content')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // Referenced the way the example does: section.entry.reference = the Binary entry's fullUrl.
    const composition = resources(doc)[0] as Node;
    const sections = composition.children.filter((c) => c.name === 'section');
    expect(sections).toHaveLength(1);
    const firstEntry = kid(sections[0], 'entry');
    expect(val(firstEntry, 'reference')).toBe(`urn:uuid:${input.ids.binaryId}`);
    expect(val(binaryEntry, 'fullUrl')).toBe(`urn:uuid:${input.ids.binaryId}`);
    expect(val(binary, 'id')).toBe(input.ids.binaryId);
    // A real PDF: header, cross-reference table, trailer, end marker.
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.')).toBe(true);
    expect(text).toMatch(/\nxref\n0 \d+\n/);
    expect(text).toMatch(/trailer\n<<[\s\S]*\/Root [\s\S]*startxref\n\d+\n%%EOF\n?$/);
  });

  it('the PDF holds the patient identifiers in the GP Connect PDF layout and every reading: date/time, value, unit, SNOMED CT code and display', async () => {
    const { pages, info } = await pdfText(attachment().pdf);
    expect(pages).toHaveLength(1);
    const page = pages[0] as string;
    // Patient: Surname, Forename(s); D.O.B. dd-Mmm-yyyy; NHS no. ### ### ####; Gender.
    expect(page).toContain("O'SMITH<&>, Jane (Mrs)");
    expect(page).toContain('D.O.B. 22-Oct-2010');
    expect(page).toContain('NHS no. 900 000 0009');
    expect(page).toContain('Gender Female');
    expect(page).toMatch(/Version 1\b/);
    expect(page).toContain('Page 1 of 1');
    // Dates in UK time (1 March: GMT): seen, and sent.
    expect(page).toContain('Date seen 01-Mar-2025');
    expect(page).toContain('Date consultation sent 01-Mar-2025 12:00');
    // Sender: place of consultation and the product.
    expect(page).toContain('Acme Health (ODS code X26)');
    expect(page).toContain('Acme Telehealth');
    // Every reading, in time order.
    for (const r of result.readings) {
      expect(page).toContain(r.snomed.code);
      expect(page).toContain(r.snomed.display);
    }
    expect(page).toMatch(
      /01-Mar-2025 08:30 Blood pressure 75367002 Blood pressure 128\/82 mmHg final Cuff <A&B>/,
    );
    expect(page).toMatch(/01-Mar-2025 08:31 Oxygen saturation \(SpO2\) 431314004 .* 97 % final/);
    expect(info).toMatchObject({ Title: 'Consultation report', CreationDate: 'D:20250301120000Z' });
  });

  it('the PDF is byte-identical when the same message is built again (an idempotent resend)', () => {
    const again = Buffer.from(
      val(resources(resources(tree(buildSendDocumentMessage(input).xml))[2] as Node)[1], 'content') as string,
      'base64',
    );
    expect(again.equals(attachment().pdf)).toBe(true);
    const later = buildSendDocumentMessage({
      ...input,
      ids: { ...input.ids, createdAt: '2025-03-01T12:00:01+00:00' },
    });
    expect(later.xml).not.toBe(xml);
  });

  it("a restricted patient's PDF leaves out the clinician, surgery telephone and place of consultation (GPCM-SD-102)", async () => {
    const restricted = buildSendDocumentMessage({
      ...input,
      restricted: true,
      sender: { ...input.sender, organisationPhone: '01632 960000' },
    });
    const binary = resources(resources(tree(restricted.xml))[2] as Node)[1] as Node;
    const [page] = (await pdfText(Buffer.from(val(binary, 'content') as string, 'base64'))).pages;
    expect(page).not.toContain('Acme Health');
    expect(page).not.toContain('01632');
    expect(page).not.toContain('Clinician');
    expect(page).toContain('128/82'); // the readings are what is being sent
    const open = buildSendDocumentMessage({
      ...input,
      sender: { ...input.sender, organisationPhone: '01632 960000' },
    });
    const [openPage] = (
      await pdfText(
        Buffer.from(val(resources(resources(tree(open.xml))[2] as Node)[1], 'content') as string, 'base64'),
      )
    ).pages;
    expect(openPage).toContain('Surgery Tel No. 01632 960000');
  });

  it('many readings run over several pages, each with the NHS number and Page x of y', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      ...(result.readings[1] as (typeof result.readings)[number]),
      index: i,
    }));
    const big = buildSendDocumentMessage({ ...input, readings: many });
    const binary = resources(resources(tree(big.xml))[2] as Node)[1] as Node;
    const { pages } = await pdfText(Buffer.from(val(binary, 'content') as string, 'base64'));
    expect(pages.length).toBeGreaterThan(1);
    pages.forEach((page, i) => {
      expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
      expect(page).toContain('NHS no. 900 000 0009');
    });
    expect(pages.join(' ').match(/ 97 % final/g)).toHaveLength(60);
  });

  it('a caller-supplied document wins over the generated PDF', () => {
    const own = new TextEncoder().encode("%PDF-1.7 the product's own report");
    const withOwn = buildSendDocumentMessage({
      ...input,
      document: { contentType: 'application/pdf', content: own },
    });
    const binary = resources(resources(tree(withOwn.xml))[2] as Node)[1] as Node;
    expect(Buffer.from(val(binary, 'content') as string, 'base64').toString()).toBe(
      "%PDF-1.7 the product's own report",
    );
  });

  it('gives the MESH metadata: workflow, mailboxes, GPPROVIDER address, subject, local id', () => {
    expect(mesh).toEqual({
      workflowId: 'GPFED_CONSULT_REPORT',
      from: 'X26OT001',
      to: 'Y12345OT001',
      toByDemographics: "GPPROVIDER_9000000009_22102010_O'Smith<&>",
      subject:
        "Consultation report for Mrs Jane O'Smith<&> , NHS Number 9000000009, seen at Acme Health, ODS Code X26",
      localId: input.ids.senderReference,
      contentType: 'application/fhir+xml',
    });
  });

  it('a restricted patient: confidentiality R and no sender practice details in the summary', () => {
    const r = buildSendDocumentMessage({ ...input, restricted: true });
    expect(r.mesh.subject).not.toContain('Acme');
    expect(r.xml).toContain('<confidentiality value="R"/>');
  });

  it('refuses a patient without NHS number or birth date, and an empty reading list', () => {
    expect(() => buildSendDocumentMessage({ ...input, readings: [] })).toThrow(/no readings/);
    expect(() => buildSendDocumentMessage({ ...input, patient: { ...patient, identifier: [] } })).toThrow(
      /NHS number/,
    );
    expect(() => buildSendDocumentMessage({ ...input, patient: { ...patient, birthDate: '2010' } })).toThrow(
      /birth date/,
    );
  });
});

describe('ITK3 acknowledgements', () => {
  const ids = {
    bundleId: u(20),
    messageId: u(21),
    headerId: u(22),
    organizationId: u(23),
    outcomeId: u(24),
    timestamp: '2025-03-01T12:05:00+00:00',
  };
  const base = {
    referencedMessageId: u(3),
    senderReference: u(11),
    responderOds: 'Y12345',
    responderMailbox: 'Y12345OT001',
    ids,
  };
  it.each([
    ['infrastructure ok (20013)', 'infrastructure', '20013', 'Success', 'ok', true],
    ['business ok (30001 patient known here)', 'business', '30001', 'Patient known here', 'ok', true],
    [
      'business negative (30002 patient not known)',
      'business',
      '30002',
      'Patient not known here',
      'fatal-error',
      false,
    ],
    [
      'infrastructure fatal (20009 payload validation failure)',
      'infrastructure',
      '20009',
      'Payload validation failure',
      'fatal-error',
      false,
    ],
  ] as const)('%s', (_n, kind, itkCode, itkDisplay, code, ok) => {
    const ack = parseItkAck(
      buildItkAck({ ...base, kind, itkCode, itkDisplay, code, diagnostics: 'detail here' }),
    );
    expect(ack).toEqual({
      kind,
      ok,
      code,
      itkCode,
      referencedMessageId: u(3),
      senderReference: u(11),
      detail: `${itkDisplay} — detail here`,
    });
  });
  it('rejects what is not an ITK3 response', () => {
    expect(() => parseItkAck('<Bundle')).toThrow(ItkAckParseError);
    expect(() => parseItkAck('<!DOCTYPE x [<!ENTITY a "b">]><Bundle xmlns="http://hl7.org/fhir"/>')).toThrow(
      ItkAckParseError,
    );
    expect(() => parseItkAck(buildSendDocumentMessage(input).xml)).toThrow(/ITK008M/);
  });
});
