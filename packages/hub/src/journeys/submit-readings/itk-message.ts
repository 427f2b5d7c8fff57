import { SYSTEMS } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';
import { el, elWith, type FhirNode, prim, toFhirXml, type XhtmlNode } from './fhir-xml.js';
import { READING_KINDS } from './reading-kinds.js';
import { readingsPdf, readingUnit, readingValue } from './readings-pdf.js';
import type { NormalisedReading } from './validate.js';

/**
 * The GP Connect Messaging "Send Document" ITK3 (v2.5.0) FHIR STU3 message that carries submitted
 * readings to the patient's registered practice over MESH.
 *
 * Spec: nhsconnect/gpconnect-messaging, `_includes/senddocument/consultation_report.xml` (the example,
 * vendored in reference/specs/gpconnect/send-document/senddocument/), `definition.xml` (MessageDefinition
 * ITK-GPConnectSendDocument-MessageDefinition-1), and the requirements in `_data/senddoc_requirements.yml`
 * (GPCM-SD-0xx / -1xx, cited inline). CONTRACTS.md §4 "Send Document".
 *
 * Deviations from the example, all deliberate:
 * - Elements are written in STU3 definition order (the XSD's order). The example has MessageHeader
 *   `source` before `event`, and Composition `date`/`confidentiality`/`title`/`text` out of order;
 *   an XSD-validating receiver would reject those.
 * - `LocalExtension` is `SendDocument-ConsultationReport` as GPCM-SD-044 requires (the example says
 *   `SendDocument-ConsultationSummary`).
 * - No MessageHeader `destination`/`receiver`: GPCM-SD-049 forbids them (routing is by MESH).
 * - The readable document is a PDF of the readings (readings-pdf.ts) in an ITK-Attachment-Binary-1
 *   `Binary` (contentType `application/pdf`, base64 content: GPCM-SD-021/-111), the first (only)
 *   `Composition.section.entry` (GPCM-SD-022, -124), as in the example; the same readings are also the
 *   section's XHTML narrative, for a receiver that shows FHIR text. A caller may pass its own document.
 */

export const ITK = {
  messageBundleProfile: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1',
  messageHeaderProfile: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2',
  messageHandling: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2',
  recipientTypeSystem: 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1',
  messageDefinition:
    'https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1',
  messageEventSystem: 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2',
  headerOrganizationProfile:
    'https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1',
  documentBundleProfile: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1',
  compositionProfile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1',
  binaryProfile: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1',
  practitionerProfile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1',
  organizationProfile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1',
  patientProfile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1',
  deviceProfile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Device-1',
  rfc4122: 'https://tools.ietf.org/html/rfc4122',
  sdsUserId: 'https://fhir.nhs.uk/Id/sds-user-id',
  /** GPCM-SD-047. */
  sendDocumentEvent: { code: 'ITK007C', display: 'ITK GP Connect Send Document' },
  /** GPCM-SD-044. */
  localExtension: 'SendDocument-ConsultationReport',
} as const;

/** GPCM-SD-057 / -058. */
export const SEND_DOCUMENT_WORKFLOW = 'GPFED_CONSULT_REPORT';
export const SEND_DOCUMENT_ACK_WORKFLOW = 'GPFED_CONSULT_REPORT_ACK';

export interface SenderDetails {
  /** The telemedicine product (shown as the Composition author Device). */
  productName: string;
  productVersion?: string;
  /** The sender organisation: ODS code, name, phone (GPCM-SD-029..031). */
  organisationOds: string;
  organisationName: string;
  organisationPhone?: string;
  /** MESH mailbox of the sender: MessageHeader.source.endpoint (GPCM-SD-046), Mex-From. */
  meshMailbox: string;
  /** A clinician who reviewed the readings; when given, the Composition author (GPCM-SD-121). */
  practitioner?: {
    sdsUserId?: string;
    family: string;
    given?: string[];
    prefix?: string[];
    phone?: string;
  };
}

export interface RecipientDetails {
  /** The registered practice's ODS code (from PDS `generalPractitioner`). */
  practiceOds: string;
  /** Its MESH mailbox (from MESH endpoint lookup for GPFED_CONSULT_REPORT). */
  meshMailbox: string;
}

/** Ids and times are injected so the output is deterministic. All ids are UUIDs (lower case). */
export interface MessageIds {
  /** Message Bundle `id`. */
  messageBundleId: string;
  /** Message Bundle `identifier.value` (also the document Bundle's, as in the example). */
  messageId: string;
  messageHeaderId: string;
  headerOrganizationId: string;
  documentBundleId: string;
  compositionId: string;
  binaryId: string;
  patientId: string;
  organizationId: string;
  /** Practitioner or Device id, whichever is the author. */
  authorId: string;
  /** The submission id: ITK `SenderReference` (GPCM-SD-042) and MESH `Mex-LocalID`. */
  senderReference: string;
  /** When the message is built: MessageHeader.timestamp (GPCM-SD-048), Composition.date (GPCM-SD-116). */
  createdAt: string;
}

export interface SendDocumentInput {
  readings: readonly NormalisedReading[];
  /** The PDS Patient (R4): NHS number, official/usual name, birth date, gender, generalPractitioner. */
  patient: Patient;
  sender: SenderDetails;
  recipient: RecipientDetails;
  ids: MessageIds;
  /** Version of this report (GPCM-SD-119 "Version {Version Number}"); 1 unless replacing. */
  version?: number;
  /** Restricted (S-flagged) patient: confidentiality R and no practice details in text (GPCM-SD-117/119). */
  restricted?: boolean;
  /** A readable document to attach instead of the generated PDF of the readings. */
  document?: { contentType: string; content: Uint8Array };
}

export interface MeshSendMetadata {
  /** `Mex-WorkflowID` (GPCM-SD-057). */
  workflowId: string;
  /** `Mex-From`: the sender mailbox (GPCM-SD-062). */
  from: string;
  /** `Mex-To` addressed to the practice mailbox found by endpoint lookup (mesh-api.yaml `endpointlookup`). */
  to: string;
  /**
   * `Mex-To` for MESH automated routing (GPCM-SD-063, integration_mesh.md "Message routing to registered
   * practice"): `GPPROVIDER_<nhs>_<ddmmyyyy>_<surname>`. CONTRACTS.md §4 calls this the To_DTS; it is the
   * MESH address, not the subject.
   */
  toByDemographics: string;
  /** `Mex-Subject` (GPCM-SD-064): "Consultation report for {Patient Name} , NHS Number …". */
  subject: string;
  /** `Mex-LocalID`: the sender reference, for tracking. */
  localId: string;
  /** `Mex-Content-Type`. */
  contentType: string;
}

export interface SendDocumentMessage {
  xml: string;
  mesh: MeshSendMetadata;
}

export class SendDocumentInputError extends Error {
  override readonly name = 'SendDocumentInputError';
}

export interface PatientFacts {
  nhsNumber: string;
  family: string;
  given: string[];
  prefix: string[];
  birthDate: string;
  gender?: string;
}

function patientFacts(patient: Patient): PatientFacts {
  const nhsNumber = patient.identifier?.find((i) => i.system === SYSTEMS.nhsNumber)?.value;
  if (!nhsNumber) throw new SendDocumentInputError('the patient has no NHS number identifier');
  const name =
    patient.name?.find((n) => n.use === 'official') ??
    patient.name?.find((n) => n.use === 'usual') ??
    patient.name?.find((n) => n.use === undefined);
  if (!name?.family) throw new SendDocumentInputError('the patient has no usual/official family name');
  if (!patient.birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate)) {
    throw new SendDocumentInputError('the patient has no full birth date (YYYY-MM-DD)');
  }
  return {
    nhsNumber,
    family: name.family,
    given: name.given ?? [],
    prefix: name.prefix ?? [],
    birthDate: patient.birthDate,
    ...(patient.gender ? { gender: patient.gender } : {}),
  };
}

const uuidRef = (id: string) => `urn:uuid:${id}`;
const meta = (profile: string) => el('meta', prim('profile', profile));
const reference = (id: string) => prim('reference', uuidRef(id));
const odsIdentifier = (ods: string) =>
  el('identifier', prim('system', SYSTEMS.odsOrganisationCode), prim('value', ods));
const phone = (value: string | undefined) =>
  value === undefined
    ? []
    : [el('telecom', prim('system', 'phone'), prim('value', value), prim('use', 'work'))];
const ext = (url: string, ...children: (FhirNode | FhirNode[])[]) =>
  elWith('extension', { url }, ...children);
const entry = (id: string, resource: FhirNode) =>
  el('entry', prim('fullUrl', uuidRef(id)), el('resource', resource));

/** Person name as "Mr Richard Smith" for text; never used in error messages. */
function displayName(p: PatientFacts): string {
  return [...p.prefix, ...p.given, p.family].join(' ');
}

/** GPCM-SD-119 / -064 text. Practice details are left out for a restricted patient. */
function summaryText(p: PatientFacts, input: SendDocumentInput, withVersion: boolean): string {
  const seenAt = input.restricted
    ? ''
    : `, seen at ${input.sender.organisationName}, ODS Code ${input.sender.organisationOds}`;
  const version = withVersion ? `, Version ${input.version ?? 1}` : '';
  return `Consultation report for ${displayName(p)} , NHS Number ${p.nhsNumber}${seenAt}${version}`;
}

/** `GPPROVIDER_<nhs>_<ddmmyyyy>_<surname>` (integration_mesh.md "MESH API"). */
export function gpProviderAddress(nhsNumber: string, birthDate: string, family: string): string {
  const [y, m, d] = birthDate.split('-');
  return `GPPROVIDER_${nhsNumber}_${d}${m}${y}_${family}`;
}

/** The readings table (XHTML): the Composition section's narrative. */
export function readingsTable(readings: readonly NormalisedReading[], patient: PatientFacts): XhtmlNode {
  const th = (t: string): XhtmlNode => ({ tag: 'th', children: [t] });
  const td = (t: string): XhtmlNode => ({ tag: 'td', children: [t] });
  const rows: XhtmlNode[] = readings.map((r) => {
    const label = READING_KINDS[r.kind].label;
    const value = readingValue(r);
    const unit = readingUnit(r);
    return {
      tag: 'tr',
      children: [
        td(r.effective),
        td(`${label} (SNOMED CT ${r.snomed.code} ${r.snomed.display})`),
        td(value),
        td(unit),
        td(r.status),
        td(r.device ?? ''),
      ],
    };
  });
  return {
    tag: 'div',
    children: [
      {
        tag: 'p',
        children: [
          `Readings submitted for ${displayName(patient)}, NHS Number ${patient.nhsNumber}, born ${patient.birthDate}`,
        ],
      },
      {
        tag: 'table',
        children: [
          {
            tag: 'thead',
            children: [
              {
                tag: 'tr',
                children: [
                  th('Date/time'),
                  th('Reading'),
                  th('Value'),
                  th('Unit'),
                  th('Status'),
                  th('Device'),
                ],
              },
            ],
          },
          { tag: 'tbody', children: rows },
        ],
      },
    ],
  };
}

function clinicianName(c: NonNullable<SenderDetails['practitioner']>): string {
  const forenames = [...(c.given ?? []), ...(c.prefix?.length ? [`(${c.prefix.join(' ')})`] : [])].join(' ');
  return `${c.family.toUpperCase()}${forenames ? `, ${forenames}` : ''}`;
}

/** Builds the ITK3 Send Document message (FHIR STU3 XML) and its MESH metadata. */
export function buildSendDocumentMessage(input: SendDocumentInput): SendDocumentMessage {
  if (input.readings.length === 0) throw new SendDocumentInputError('there are no readings to send');
  const p = patientFacts(input.patient);
  const { ids, sender, recipient } = input;

  // Binary (ITK-Attachment-Binary-1): the consultation report PDF, base64 (GPCM-SD-021, -111, -124).
  const table = readingsTable(input.readings, p);
  const document = input.document ?? {
    contentType: 'application/pdf',
    content: readingsPdf({
      readings: input.readings,
      patient: p,
      version: input.version ?? 1,
      createdAt: ids.createdAt,
      productName: sender.productName,
      ...(sender.productVersion === undefined ? {} : { productVersion: sender.productVersion }),
      organisationName: sender.organisationName,
      organisationOds: sender.organisationOds,
      ...(sender.organisationPhone === undefined ? {} : { organisationPhone: sender.organisationPhone }),
      ...(sender.practitioner === undefined ? {} : { clinician: clinicianName(sender.practitioner) }),
      restricted: input.restricted ?? false,
    }),
  };
  const binary = el(
    'Binary',
    prim('id', ids.binaryId),
    meta(ITK.binaryProfile),
    prim('contentType', document.contentType),
    prim('content', Buffer.from(document.content).toString('base64')),
  );

  const author = sender.practitioner
    ? el(
        'Practitioner',
        prim('id', ids.authorId),
        meta(ITK.practitionerProfile),
        sender.practitioner.sdsUserId === undefined
          ? []
          : [el('identifier', prim('system', ITK.sdsUserId), prim('value', sender.practitioner.sdsUserId))],
        el(
          'name',
          prim('use', 'official'),
          prim('family', sender.practitioner.family),
          (sender.practitioner.given ?? []).flatMap((g) => prim('given', g)),
          (sender.practitioner.prefix ?? []).flatMap((x) => prim('prefix', x)),
        ),
        phone(sender.practitioner.phone),
      )
    : // STU3 Device: identifier, udi, status, type, lotNumber, manufacturer, …, model, version, patient, owner.
      el(
        'Device',
        prim('id', ids.authorId),
        meta(ITK.deviceProfile),
        el('type', prim('text', 'Telemedicine software')),
        prim('manufacturer', sender.organisationName),
        prim('model', sender.productName),
        prim('version', sender.productVersion),
        el('owner', reference(ids.organizationId)),
      );

  const organization = el(
    'Organization',
    prim('id', ids.organizationId),
    meta(ITK.organizationProfile),
    odsIdentifier(sender.organisationOds),
    prim('name', sender.organisationName),
    phone(sender.organisationPhone),
  );

  // CareConnect-Patient-1 (GPCM-SD-035..037): NHS number, official name, birth date.
  const patient = el(
    'Patient',
    prim('id', ids.patientId),
    meta(ITK.patientProfile),
    el('identifier', prim('system', SYSTEMS.nhsNumber), prim('value', p.nhsNumber)),
    prim('active', 'true'),
    el(
      'name',
      prim('use', 'official'),
      prim('family', p.family),
      p.given.flatMap((g) => prim('given', g)),
      p.prefix.flatMap((x) => prim('prefix', x)),
    ),
    prim('gender', p.gender),
    prim('birthDate', p.birthDate),
    el('generalPractitioner', odsIdentifier(recipient.practiceOds)),
  );

  // Composition (GPCM-SD-113..124), STU3 order: text, identifier, status, type, subject, date,
  // author, title, confidentiality, custodian, section.
  const composition = el(
    'Composition',
    prim('id', ids.compositionId),
    meta(ITK.compositionProfile),
    el('text', prim('status', 'generated'), {
      name: 'div',
      xhtml: { tag: 'div', children: [{ tag: 'p', children: [summaryText(p, input, true)] }] },
    }),
    prim('status', 'final'),
    el(
      'type',
      el(
        'coding',
        prim('system', SYSTEMS.snomed),
        prim('code', '371531000'),
        prim('display', 'Report of clinical encounter'),
      ),
    ),
    el('subject', reference(ids.patientId)),
    prim('date', ids.createdAt),
    el('author', reference(ids.authorId)),
    prim('title', 'Consultation report'),
    prim('confidentiality', input.restricted ? 'R' : 'N'),
    el('custodian', reference(ids.organizationId)),
    el(
      'section',
      prim('title', 'Consultation report'),
      el('text', prim('status', 'generated'), { name: 'div', xhtml: table }),
      el('entry', reference(ids.binaryId)),
    ),
  );

  const documentBundle = el(
    'Bundle',
    prim('id', ids.documentBundleId),
    meta(ITK.documentBundleProfile),
    el('identifier', prim('system', ITK.rfc4122), prim('value', ids.messageId)),
    prim('type', 'document'),
    entry(ids.compositionId, composition),
    entry(ids.binaryId, binary),
    entry(ids.authorId, author),
    entry(ids.organizationId, organization),
    entry(ids.patientId, patient),
  );

  // MessageHeader (ITK-MessageHeader-2), STU3 order: extension, event, sender, timestamp, source, focus.
  const messageHeader = el(
    'MessageHeader',
    prim('id', ids.messageHeaderId),
    meta(ITK.messageHeaderProfile),
    ext(
      ITK.messageHandling,
      ext('BusAckRequested', prim('valueBoolean', 'true')), // GPCM-SD-040
      ext('InfAckRequested', prim('valueBoolean', 'true')), // GPCM-SD-041
      ext(
        'RecipientType', // GPCM-SD-039
        el(
          'valueCoding',
          prim('system', ITK.recipientTypeSystem),
          prim('code', 'FA'),
          prim('display', 'For Action'),
        ),
      ),
      ext('MessageDefinition', el('valueReference', prim('reference', ITK.messageDefinition))), // GPCM-SD-043
      ext('SenderReference', prim('valueString', ids.senderReference)), // GPCM-SD-042
      ext('LocalExtension', prim('valueString', ITK.localExtension)), // GPCM-SD-044
    ),
    el(
      'event',
      prim('system', ITK.messageEventSystem),
      prim('code', ITK.sendDocumentEvent.code),
      prim('display', ITK.sendDocumentEvent.display),
    ),
    el('sender', reference(ids.headerOrganizationId)), // GPCM-SD-045
    prim('timestamp', ids.createdAt),
    el('source', prim('endpoint', sender.meshMailbox)), // GPCM-SD-046
    el('focus', reference(ids.documentBundleId)), // GPCM-SD-103
  );

  const headerOrganization = el(
    'Organization',
    prim('id', ids.headerOrganizationId),
    meta(ITK.headerOrganizationProfile),
    odsIdentifier(sender.organisationOds),
  );

  const message = el(
    'Bundle',
    prim('id', ids.messageBundleId),
    meta(ITK.messageBundleProfile),
    el('identifier', prim('system', ITK.rfc4122), prim('value', ids.messageId)),
    prim('type', 'message'),
    entry(ids.messageHeaderId, messageHeader),
    entry(ids.headerOrganizationId, headerOrganization),
    entry(ids.documentBundleId, documentBundle),
  );

  return {
    xml: toFhirXml(message),
    mesh: {
      workflowId: SEND_DOCUMENT_WORKFLOW,
      from: sender.meshMailbox,
      to: recipient.meshMailbox,
      toByDemographics: gpProviderAddress(p.nhsNumber, p.birthDate, p.family),
      subject: summaryText(p, input, false),
      localId: ids.senderReference,
      contentType: 'application/fhir+xml',
    },
  };
}
