import { SaxesParser } from 'saxes';

/**
 * A dm+d file that cannot be read: malformed or hostile XML, or a record that breaks the XSD.
 * Always names the file and the line (and column when known) so an operator can find it.
 */
export class DmdFormatError extends Error {
  override readonly name = 'DmdFormatError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}:${line}${column === undefined ? '' : `:${column}`}: ${reason}`);
  }
}

/** One flat row of a dm+d file: element name → text, as the file gave it (entities decoded). */
export interface RawRow {
  /** Path of the record below the root, e.g. `VMPS/VMP`, `VIRTUAL_PRODUCT_INGREDIENT/VPI`, `VTM`. */
  section: string;
  /** Line of the record's start tag. */
  line: number;
  fields: Record<string, string>;
}

export interface ReadXmlOptions {
  /** Longest text allowed in one element; the longest dm+d field is 774 characters. */
  maxFieldLength?: number;
  /** Most elements allowed in one record; the widest dm+d record (VMP) has 24. */
  maxFieldsPerRecord?: number;
  /** The root element the file must have, e.g. `VIRTUAL_MED_PRODUCTS`. */
  root?: string;
}

interface OpenElement {
  name: string;
  line: number;
  text: string;
  hasChildren: boolean;
  /** Children that were leaves (element → text); the candidate record. Made on the first one. */
  fields: Record<string, string> | null;
  fieldCount: number;
  /** Whether a child element had children of its own (then this is a container, not a record). */
  hasNestedRecord: boolean;
}

/**
 * Streams the records of one dm+d XML file. dm+d rows are flat: a record is an element whose
 * children are all text-only elements. Sections are the path from below the root to the record
 * (`VMPS/VMP`, `ONT_DRUG_FORM/ONT`, `UNIT_OF_MEASURE/INFO`; the VTM and ingredient files put
 * their records straight under the root: `VTM`, `ING`). GTIN is the one nested file: each
 * `AMPPS/AMPP/GTINDATA` row also carries the leaf fields its AMPP gave before it (`AMPPID`).
 *
 * Hostile XML is refused: any DOCTYPE (dm+d files have none, and entity declarations can only
 * live in one) and undefined entity references stop the read with a {@link DmdFormatError}.
 * Memory is bounded by one input chunk's records and the field limits; the consumer's pace
 * drives the reads (async iteration).
 *
 * @example
 * for await (const row of readDmdXml(createReadStream(path), 'f_vmp2_3010419.xml')) {
 *   if (row.section === 'VMPS/VMP') console.log(row.fields.VPID, row.fields.NM);
 * }
 */
export async function* readDmdXml(
  input: AsyncIterable<Uint8Array | string>,
  file: string,
  options: ReadXmlOptions = {},
): AsyncGenerator<RawRow> {
  const maxFieldLength = options.maxFieldLength ?? 64 * 1024;
  const maxFields = options.maxFieldsPerRecord ?? 256;
  const parser = new SaxesParser({ fileName: file, position: true });
  const stack: OpenElement[] = [];
  let pending: RawRow[] = [];
  let sawRoot = false;

  const fail = (reason: string, line = parser.line, column: number | undefined = parser.column): never => {
    throw new DmdFormatError(file, line, column, reason);
  };

  parser.on('error', (err) => {
    // saxes prefixes its messages with "file:line:column: "; keep only the reason.
    const reason = err.message.replace(/^.*?:\d+:\d+: /, '');
    fail(`malformed XML: ${reason}`);
  });
  parser.on('doctype', () => fail('DOCTYPE is not allowed in dm+d files (possible entity expansion attack)'));
  parser.on('processinginstruction', (pi) => fail(`processing instruction <?${pi.target}?> is not allowed`));
  parser.on('opentag', (tag) => {
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.hasChildren = true;
      if (parent.text.trim() !== '') fail(`<${parent.name}> mixes text and elements`);
    } else if (sawRoot) {
      fail('more than one root element');
    } else if (options.root !== undefined && tag.name !== options.root) {
      fail(`root element is <${tag.name}>, expected <${options.root}>`);
    }
    sawRoot = true;
    stack.push({
      name: tag.name,
      line: parser.line,
      text: '',
      hasChildren: false,
      fields: null,
      fieldCount: 0,
      hasNestedRecord: false,
    });
  });
  parser.on('text', (text) => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (text.trim() !== '') fail('text outside the root element');
      return;
    }
    if (top.hasChildren) {
      if (text.trim() !== '') fail(`<${top.name}> mixes text and elements`);
      return;
    }
    if (top.text.length + text.length > maxFieldLength)
      fail(`<${top.name}> is longer than ${maxFieldLength} characters`);
    top.text += text;
  });
  parser.on('cdata', (text) => {
    const top = stack[stack.length - 1];
    if (!top) return;
    if (top.text.length + text.length > maxFieldLength)
      fail(`<${top.name}> is longer than ${maxFieldLength} characters`);
    top.text += text;
  });
  parser.on('closetag', () => {
    const el = stack.pop();
    if (!el) return;
    const parent = stack[stack.length - 1];
    const depth = stack.length; // 0 = root, 1 = section (or record under the root), …
    if (!el.hasChildren) {
      // A leaf: a field of its parent. Leaves straight under the root are empty sections.
      if (!parent || depth === 1) {
        if (el.text.trim() !== '') fail(`unexpected text in <${el.name}>`, el.line);
        return;
      }
      // A null-prototype object, so an element called __proto__ is just a (refused) field.
      parent.fields ??= Object.create(null) as Record<string, string>;
      if (el.name in parent.fields) fail(`<${el.name}> appears twice in <${parent.name}>`);
      if (++parent.fieldCount > maxFields)
        fail(`<${parent.name}> has more than ${maxFields} elements`, parent.line);
      parent.fields[el.name] = el.text;
      return;
    }
    if (parent) parent.hasNestedRecord = true;
    if (el.hasNestedRecord || depth === 0) return; // a section, a GTIN AMPP, or the root
    // A record. Its section is the path below the root; the leaf fields of enclosing
    // containers (GTIN's AMPPID) are merged in.
    const fields = el.fields ?? (Object.create(null) as Record<string, string>);
    let section = el.name;
    for (let i = stack.length - 1; i >= 1; i--) {
      const anc = stack[i] as OpenElement;
      section = `${anc.name}/${section}`;
      if (!anc.fields) continue;
      for (const k in anc.fields) {
        if (k in fields) fail(`<${k}> appears twice in <${el.name}> and its container`, el.line);
        fields[k] = anc.fields[k] as string;
      }
    }
    pending.push({ section, line: el.line, fields });
  });

  // Decode ourselves so a bad byte sequence is an error, not a silent U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (chunk: Uint8Array | string, stream: boolean): string => {
    if (typeof chunk === 'string') return chunk;
    try {
      return decoder.decode(chunk, { stream });
    } catch {
      return fail('the file is not valid UTF-8');
    }
  };
  let first = true;
  try {
    for await (const chunk of input) {
      let text = decode(chunk, true);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM
        first = false;
      }
      parser.write(text);
      if (pending.length > 0) {
        const out = pending;
        pending = [];
        yield* out;
      }
    }
  } catch (err) {
    if (err instanceof DmdFormatError) throw err;
    // The input failed (a corrupt zip entry, a read error): say where the read stopped.
    const error = new DmdFormatError(
      file,
      parser.line,
      parser.column,
      `could not read the file: ${err instanceof Error ? err.message : String(err)}`,
    );
    error.cause = err;
    throw error;
  }
  const rest = decode(new Uint8Array(0), false);
  if (rest) parser.write(rest);
  if (!sawRoot) fail('no root element: the file is empty or not XML');
  parser.close();
  yield* pending;
}
