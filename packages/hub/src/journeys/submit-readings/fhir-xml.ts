import { create } from 'xmlbuilder2';

type XMLBuilder = ReturnType<typeof create>;

/**
 * An ordered FHIR XML element tree. FHIR XML (STU3 "XML Representation") needs elements in the
 * order of the resource definition and primitive values in a `value` attribute; building from an
 * ordered list (not from object keys) keeps that order explicit. xmlbuilder2 does all escaping.
 */
export type FhirNode =
  | { name: string; value: string; attrs?: Record<string, string> }
  | { name: string; children: FhirNode[]; attrs?: Record<string, string> }
  | { name: 'div'; xhtml: XhtmlNode };

export interface XhtmlNode {
  tag: string;
  attrs?: Record<string, string>;
  children?: (XhtmlNode | string)[];
}

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** `<name value="…"/>`; undefined values produce nothing (pass the result through `el`). */
export const prim = (name: string, value: string | undefined): FhirNode[] =>
  value === undefined ? [] : [{ name, value }];

export const el = (name: string, ...children: (FhirNode | FhirNode[])[]): FhirNode => ({
  name,
  children: children.flat(),
});

export const elWith = (
  name: string,
  attrs: Record<string, string>,
  ...children: (FhirNode | FhirNode[])[]
): FhirNode => ({
  name,
  attrs,
  children: children.flat(),
});

function write(parent: XMLBuilder, node: FhirNode): void {
  if ('xhtml' in node) {
    writeXhtml(parent, node.xhtml, true);
    return;
  }
  const child = parent.ele(FHIR_NS, node.name);
  for (const [k, v] of Object.entries(node.attrs ?? {})) child.att(k, v);
  if ('value' in node) child.att('value', node.value);
  else for (const c of node.children) write(child, c);
}

function writeXhtml(parent: XMLBuilder, node: XhtmlNode, root: boolean): void {
  const child = parent.ele(XHTML_NS, node.tag);
  if (root) child.att('xmlns', XHTML_NS);
  for (const [k, v] of Object.entries(node.attrs ?? {})) child.att(k, v);
  for (const c of node.children ?? []) {
    if (typeof c === 'string') child.txt(c);
    else writeXhtml(child, c, false);
  }
}

/** Serialises a resource tree to an XML document in the FHIR namespace. */
export function toFhirXml(root: FhirNode, options: { pretty?: boolean } = {}): string {
  if ('xhtml' in root || 'value' in root) throw new TypeError('the root must be a resource element');
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const top = doc.ele(FHIR_NS, root.name).att('xmlns', FHIR_NS);
  for (const c of root.children) write(top, c);
  return doc.end({ prettyPrint: options.pretty ?? true });
}
