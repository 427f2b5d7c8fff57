import { SaxesParser } from 'saxes';
import { el, elWith, FHIR_NS, type FhirNode, prim, toFhirXml } from './fhir-xml.js';
import { ITK } from './itk-message.js';

/**
 * ITK3 responses (acknowledgements) to a Send Document message, received over MESH with workflow
 * GPFED_CONSULT_REPORT_ACK (GPCM-SD-058).
 *
 * An ITK3 response is a message Bundle whose MessageHeader has event ITK008M (GPCM-SD-054),
 * `response.identifier` = the id of the MessageHeader it answers, `response.code`
 * ok | transient-error | fatal-error (STU3 response-code), and `response.details` → an
 * OperationOutcome (ITK-Response-OperationOutcome-1) whose `issue.details.coding` carries an
 * ITK3 response code from https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1:
 * 10001–20012 negative infrastructure codes, 20013 infrastructure success, 30001 business positive
 * ("patient known here"), 30002/30003 business negative (nhsconnect ITK3 "Response Codes" page:
 * InfAckRequested → prefix 1 and 2; BusAckRequested → prefix 3).
 */

export const ITK_RESPONSE_EVENT = { code: 'ITK008M', display: 'ITK Response' } as const;
export const ITK_RESPONSE_CODES_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1';
export const ITK_RESPONSE_MESSAGE_DEFINITION =
  'https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1';
export const ITK_RESPONSE_OPERATION_OUTCOME_PROFILE =
  'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1';

export type ResponseCode = 'ok' | 'transient-error' | 'fatal-error';

export interface ItkAck {
  kind: 'infrastructure' | 'business';
  /** True when `response.code` is ok and the ITK response code is a positive one. */
  ok: boolean;
  /** MessageHeader.response.code. */
  code: ResponseCode;
  /** The ITK3 response code (e.g. 20013, 30001, 10001), when present. */
  itkCode?: string;
  /** The MessageHeader id of the message acknowledged (response.identifier). */
  referencedMessageId: string;
  /** The SenderReference echoed back, when present. */
  senderReference?: string;
  /** Display of the ITK code and the OperationOutcome diagnostics, joined. */
  detail?: string;
}

export class ItkAckParseError extends Error {
  override readonly name = 'ItkAckParseError';
}

const POSITIVE = new Set(['20013', '30001']);

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
}

const MAX_ACK_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;

function parseTree(xml: string): Element {
  if (xml.length > MAX_ACK_BYTES) throw new ItkAckParseError('the ITK3 response is larger than 1 MiB');
  const parser = new SaxesParser({ xmlns: true });
  const stack: Element[] = [];
  let root: Element | undefined;
  let error: Error | undefined;
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('doctype', () => {
    error ??= new Error('a DOCTYPE is not allowed');
  });
  parser.on('opentag', (tag) => {
    // Only FHIR elements matter; the XHTML narrative is skipped by name-space.
    const node: Element = {
      name: tag.uri === FHIR_NS ? tag.local : `{${tag.uri}}${tag.local}`,
      attrs: {},
      children: [],
    };
    for (const [k, a] of Object.entries(tag.attributes)) node.attrs[k] = typeof a === 'string' ? a : a.value;
    if (stack.length >= MAX_DEPTH) error ??= new Error('the XML is nested too deeply');
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  try {
    parser.write(xml).close();
  } catch (e) {
    error ??= e as Error;
  }
  if (error) throw new ItkAckParseError(`the ITK3 response is not well-formed XML: ${error.message}`);
  if (!root) throw new ItkAckParseError('the ITK3 response is empty');
  return root;
}

const child = (e: Element | undefined, name: string) => e?.children.find((c) => c.name === name);
const children = (e: Element | undefined, name: string) => e?.children.filter((c) => c.name === name) ?? [];
const value = (e: Element | undefined, name: string) => child(e, name)?.attrs.value;

/** Parses an ITK3 response message (FHIR STU3 XML) into an acknowledgement. */
export function parseItkAck(xml: string): ItkAck {
  const bundle = parseTree(xml);
  if (bundle.name !== 'Bundle') throw new ItkAckParseError('the ITK3 response is not a FHIR Bundle');
  if (value(bundle, 'type') !== 'message')
    throw new ItkAckParseError('the ITK3 response Bundle is not of type message');
  const resources = children(bundle, 'entry').map((e) => ({
    fullUrl: value(e, 'fullUrl'),
    resource: child(e, 'resource')?.children[0],
  }));
  const header = resources[0]?.resource;
  if (header?.name !== 'MessageHeader') {
    throw new ItkAckParseError('the first entry of the ITK3 response is not a MessageHeader');
  }
  const event = child(header, 'event');
  if (value(event, 'code') !== ITK_RESPONSE_EVENT.code) {
    throw new ItkAckParseError(`the MessageHeader event is not ${ITK_RESPONSE_EVENT.code} (ITK Response)`);
  }
  const response = child(header, 'response');
  const referencedMessageId = value(response, 'identifier');
  const code = value(response, 'code');
  if (!referencedMessageId) throw new ItkAckParseError('MessageHeader.response.identifier is missing');
  if (code !== 'ok' && code !== 'transient-error' && code !== 'fatal-error') {
    throw new ItkAckParseError('MessageHeader.response.code is not ok, transient-error or fatal-error');
  }
  const handling = children(header, 'extension').find((x) => x.attrs.url === ITK.messageHandling);
  const senderReference = value(
    children(handling, 'extension').find((x) => x.attrs.url === 'SenderReference'),
    'valueString',
  );

  // The OperationOutcome: response.details, else the first OperationOutcome in the Bundle.
  const detailsRef = value(child(response, 'details'), 'reference');
  const outcome =
    resources.find((r) => detailsRef !== undefined && r.fullUrl === detailsRef)?.resource ??
    resources.find((r) => r.resource?.name === 'OperationOutcome')?.resource;
  let itkCode: string | undefined;
  const details: string[] = [];
  for (const issue of children(outcome, 'issue')) {
    const coding = children(child(issue, 'details'), 'coding').find(
      (c) => value(c, 'system') === ITK_RESPONSE_CODES_SYSTEM,
    );
    if (coding && itkCode === undefined) itkCode = value(coding, 'code');
    const display = value(coding, 'display');
    if (display) details.push(display);
    const diagnostics = value(issue, 'diagnostics');
    if (diagnostics) details.push(diagnostics);
  }
  const kind = itkCode?.startsWith('3') ? 'business' : 'infrastructure';
  const ok = code === 'ok' && (itkCode === undefined || POSITIVE.has(itkCode));
  return {
    kind,
    ok,
    code,
    referencedMessageId,
    ...(itkCode !== undefined ? { itkCode } : {}),
    ...(senderReference !== undefined ? { senderReference } : {}),
    ...(details.length > 0 ? { detail: details.join(' — ') } : {}),
  };
}

export interface BuildAckInput {
  kind: 'infrastructure' | 'business';
  /** ITK3 response code, e.g. '20013', '30001', '10001', '30002'. */
  itkCode: string;
  itkDisplay: string;
  code: ResponseCode;
  referencedMessageId: string;
  senderReference: string;
  /** The responder (the practice): ODS code and MESH mailbox. */
  responderOds: string;
  responderMailbox: string;
  diagnostics?: string;
  ids: {
    bundleId: string;
    messageId: string;
    headerId: string;
    organizationId: string;
    outcomeId: string;
    timestamp: string;
  };
}

/**
 * Builds an ITK3 response message (as a GP system would send), for tests and the sandbox flow.
 * Structure per GPCM-SD-050..055: BusAckRequested/InfAckRequested false, SenderReference echoed,
 * sender → CareConnect-ITK-Header-Organization-1, event ITK008M, timestamp.
 */
export function buildItkAck(input: BuildAckInput): string {
  const { ids } = input;
  const ref = (id: string) => prim('reference', `urn:uuid:${id}`);
  const ext = (url: string, ...c: (FhirNode | FhirNode[])[]) => elWith('extension', { url }, ...c);
  const severity = input.code === 'ok' ? 'information' : 'error';
  const issueCode =
    input.code === 'ok' ? 'informational' : input.kind === 'business' ? 'business-rule' : 'invalid';
  const header = el(
    'MessageHeader',
    prim('id', ids.headerId),
    el('meta', prim('profile', ITK.messageHeaderProfile)),
    ext(
      ITK.messageHandling,
      ext('BusAckRequested', prim('valueBoolean', 'false')),
      ext('InfAckRequested', prim('valueBoolean', 'false')),
      ext(
        'RecipientType',
        el(
          'valueCoding',
          prim('system', ITK.recipientTypeSystem),
          prim('code', 'FI'),
          prim('display', 'For Information'),
        ),
      ),
      ext('MessageDefinition', el('valueReference', prim('reference', ITK_RESPONSE_MESSAGE_DEFINITION))),
      ext('SenderReference', prim('valueString', input.senderReference)),
      ext('LocalExtension', prim('valueString', ITK.localExtension)),
    ),
    el(
      'event',
      prim('system', ITK.messageEventSystem),
      prim('code', ITK_RESPONSE_EVENT.code),
      prim('display', ITK_RESPONSE_EVENT.display),
    ),
    el('sender', ref(ids.organizationId)),
    prim('timestamp', ids.timestamp),
    el('source', prim('endpoint', input.responderMailbox)),
    el(
      'response',
      prim('identifier', input.referencedMessageId),
      prim('code', input.code),
      el('details', ref(ids.outcomeId)),
    ),
  );
  const organization = el(
    'Organization',
    prim('id', ids.organizationId),
    el('meta', prim('profile', ITK.headerOrganizationProfile)),
    el(
      'identifier',
      prim('system', 'https://fhir.nhs.uk/Id/ods-organization-code'),
      prim('value', input.responderOds),
    ),
  );
  const outcome = el(
    'OperationOutcome',
    prim('id', ids.outcomeId),
    el('meta', prim('profile', ITK_RESPONSE_OPERATION_OUTCOME_PROFILE)),
    el(
      'issue',
      prim('severity', severity),
      prim('code', issueCode),
      el(
        'details',
        el(
          'coding',
          prim('system', ITK_RESPONSE_CODES_SYSTEM),
          prim('code', input.itkCode),
          prim('display', input.itkDisplay),
        ),
      ),
      prim('diagnostics', input.diagnostics),
    ),
  );
  const entry = (id: string, resource: FhirNode) =>
    el('entry', prim('fullUrl', `urn:uuid:${id}`), el('resource', resource));
  return toFhirXml(
    el(
      'Bundle',
      prim('id', ids.bundleId),
      el('meta', prim('profile', ITK.messageBundleProfile)),
      el('identifier', prim('system', ITK.rfc4122), prim('value', ids.messageId)),
      prim('type', 'message'),
      entry(ids.headerId, header),
      entry(ids.organizationId, organization),
      entry(ids.outcomeId, outcome),
    ),
  );
}
