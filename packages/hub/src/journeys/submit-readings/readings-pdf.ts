import PDFDocument from 'pdfkit';
import { READING_KINDS } from './reading-kinds.js';
import type { MeasuredValue, NormalisedReading } from './validate.js';

/**
 * The readable document of a submission: a PDF of the readings for the GP practice, attached to the
 * Send Document message as the consultation report (GPCM-SD-124: "The payload MUST contain a FHIR
 * CareConnect-Composition-1 resource, populated with a reference to the consultation report PDF in the
 * section.entry element").
 *
 * Layout and fields follow GP Connect Messaging "PDF layout" (senddocument_fedcon_busreq_pdf, GPCM-SD-086..
 * 091, -102): `Version [x]`, `Number of related documents`, `Page [x] of [y]`, `Surname, Forename(s)`,
 * `D.O.B.` as dd-Mmm-yyyy, `NHS no.` as ### ### ####, `Gender`, the `Clinical notes` (here: every reading
 * with its date/time, SNOMED CT code and display, value, unit, status and device), `Date seen`, `Date
 * consultation sent` as dd-Mmm-yyyy hh:mm, `Clinician`, `Surgery Tel No.` and `Place of consultation`.
 * Deliberately left out: the patient's telephone numbers and addresses (a readings report does not need
 * them, and a restricted patient's must never leave the hub), and the surgery email (not known).
 * For a restricted patient, Clinician, Surgery Tel No. and Place of consultation are not printed
 * (GPCM-SD-102's confidential items); the readings are, as they are what is being sent.
 *
 * Deterministic: the PDF's dates are the message's creation time and nothing else varies, so an
 * idempotent rebuild of the same message gives the same bytes. Times are printed in UK time
 * (Europe/London), as the practice reads them.
 */

export interface ReadingsPdfInput {
  readings: readonly NormalisedReading[];
  patient: {
    nhsNumber: string;
    family: string;
    given: string[];
    prefix: string[];
    /** YYYY-MM-DD. */
    birthDate: string;
    gender?: string;
  };
  /** Report version (GPCM-SD-091, -098). */
  version: number;
  /** When the message was built (ISO-8601): "Date consultation sent", and the PDF's dates. */
  createdAt: string;
  productName: string;
  productVersion?: string;
  organisationName: string;
  organisationOds: string;
  organisationPhone?: string;
  /** The reviewing clinician, if any: "Family, Given (Prefix)". */
  clinician?: string;
  /** Restricted (S-flagged) patient: no clinician, surgery telephone or place of consultation. */
  restricted: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const UK_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  hourCycle: 'h23',
});

/** dd-Mmm-yyyy (and hh:mm) in UK time, from an instant. */
export function ukDateTime(iso: string, withTime = true): string {
  const parts = Object.fromEntries(
    UK_TIME.formatToParts(new Date(iso)).map((p) => [p.type, p.value] as const),
  ) as Record<string, string>;
  const date = `${pad(parts.day)}-${MONTHS[Number(parts.month) - 1]}-${parts.year}`;
  return withTime ? `${date} ${pad(parts.hour)}:${pad(parts.minute)}` : date;
}

/** dd-Mmm-yyyy from a calendar date (YYYY-MM-DD): no time zone involved. */
export function ukDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}-${MONTHS[Number(m) - 1]}-${y}`;
}

/** ### ### #### (GP Connect PDF layout, `NHS no.`). */
export function spacedNhsNumber(nhsNumber: string): string {
  return `${nhsNumber.slice(0, 3)} ${nhsNumber.slice(3, 6)} ${nhsNumber.slice(6)}`;
}

function pad(v: string | undefined): string {
  return (v ?? '').padStart(2, '0');
}

/** The value as shown: 120/80 for blood pressure. */
export function readingValue(r: NormalisedReading): string {
  return r.kind === 'blood-pressure' ? `${r.systolic.value}/${r.diastolic.value}` : String(r.value.value);
}

/** The unit's display ("kg", "mmHg", "°C"), else its UCUM code. */
export function readingUnit(r: NormalisedReading): string {
  const v: MeasuredValue = r.kind === 'blood-pressure' ? r.systolic : r.value;
  const def = READING_KINDS[r.kind];
  const q = def.quantity ?? def.components?.[0]?.quantity;
  return q?.units.find((u) => u.code === v.unit)?.display ?? v.unit;
}

// The standard PDF fonts (no font file to ship or embed) encode WinAnsi only: anything else is
// written without its accents, or as '?', rather than as a wrong glyph.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function winAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (ch === '\n') out += ch;
    else {
      const bare = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += /^[\x20-\x7e]+$/.test(bare) ? bare : '?';
    }
  }
  return out;
}

const MARGIN = 50;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const SMALL = 8;
const BODY = 9.5;
/** Table columns (points): date/time, reading, value, unit, status, device. */
const COLUMNS = [
  { title: 'Date/time (UK)', width: 84 },
  { title: 'Reading (SNOMED CT)', width: 164 },
  { title: 'Value', width: 52 },
  { title: 'Unit', width: 52 },
  { title: 'Status', width: 52 },
  { title: 'Device', width: 91 },
] as const;

/**
 * Renders the readings report as a PDF (A4, standard fonts) and returns its bytes.
 * @example
 * const pdf = readingsPdf({ readings, patient, version: 1, createdAt, productName: 'Scales app',
 *   organisationName: 'Telehealth Ltd', organisationOds: 'X26', restricted: false });
 */
export function readingsPdf(input: ReadingsPdfInput): Uint8Array {
  const created = new Date(input.createdAt);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: 'Consultation report',
      Author: winAnsi(input.organisationName),
      Subject: 'Readings submitted to the GP practice',
      Creator: 'Junction',
      Producer: 'Junction',
      CreationDate: created,
      ModDate: created,
    },
  });
  const p = input.patient;
  const left = MARGIN;
  const width = doc.page.width - 2 * MARGIN;

  // Header: title, version, related documents (GP Connect PDF layout).
  doc.font(BOLD).fontSize(16).text('Consultation report', left, MARGIN);
  doc.font(FONT).fontSize(BODY);
  doc.text(`Version ${input.version}`, left, MARGIN, { width, align: 'right' });
  doc.text('Number of related documents: 0', left, MARGIN + 14, { width, align: 'right' });
  doc.moveDown(1.2);

  const field = (label: string, value: string) => {
    const y = doc.y;
    doc.font(BOLD).fontSize(BODY).text(label, left, y, { width: 150 });
    doc.font(FONT).text(winAnsi(value), left + 150, y, { width: width - 150 });
    doc.moveDown(0.25);
  };
  const heading = (text: string) => {
    doc.moveDown(0.6);
    doc.font(BOLD).fontSize(12).text(text, left, doc.y);
    rule();
    doc.moveDown(0.3);
  };
  const rule = () => {
    doc
      .moveTo(left, doc.y + 2)
      .lineTo(left + width, doc.y + 2)
      .lineWidth(0.5)
      .stroke();
    doc.y += 5;
  };

  heading('Patient');
  const forenames = [...p.given, ...(p.prefix.length > 0 ? [`(${p.prefix.join(' ')})`] : [])].join(' ');
  field('Surname, Forename(s)', `${p.family.toUpperCase()}${forenames ? `, ${forenames}` : ''}`);
  field('D.O.B.', ukDate(p.birthDate));
  field('NHS no.', spacedNhsNumber(p.nhsNumber));
  field('Gender', p.gender ? p.gender.charAt(0).toUpperCase() + p.gender.slice(1) : 'Not known');

  heading('Consultation');
  const days = [...new Set(input.readings.map((r) => ukDateTime(r.effective, false)))];
  const times = input.readings.map((r) => Date.parse(r.effective));
  const first = ukDateTime(new Date(Math.min(...times)).toISOString(), false);
  const last = ukDateTime(new Date(Math.max(...times)).toISOString(), false);
  field('Date seen', days.length === 1 ? first : `${first} to ${last}`);
  field('Date consultation sent', ukDateTime(input.createdAt));
  if (!input.restricted) {
    field('Clinician', input.clinician ?? 'None: readings taken by or for the patient');
    if (input.organisationPhone) field('Surgery Tel No.', input.organisationPhone);
    field('Place of consultation', `${input.organisationName} (ODS code ${input.organisationOds})`);
  }
  field(
    'Submitted with',
    `${input.productName}${input.productVersion ? ` ${input.productVersion}` : ''} (telemedicine software)`,
  );

  heading('Clinical notes');
  doc
    .font(FONT)
    .fontSize(BODY)
    .text(
      `${input.readings.length} reading${input.readings.length === 1 ? '' : 's'} recorded by or for the patient and submitted electronically.`,
      left,
      doc.y,
      { width },
    );
  doc.moveDown(0.5);

  const bottom = doc.page.height - MARGIN - 20; // room for the footer
  const row = (cells: string[], bold: boolean) => {
    doc.font(bold ? BOLD : FONT).fontSize(SMALL + 0.5);
    const heights = cells.map((c, i) => doc.heightOfString(c, { width: (COLUMNS[i]?.width ?? 50) - 4 }));
    const h = Math.max(...heights) + 4;
    if (doc.y + h > bottom) {
      doc.addPage();
      doc.y = MARGIN;
      if (!bold) row(header, true);
    }
    const y = doc.y;
    let x = left;
    cells.forEach((c, i) => {
      const w = COLUMNS[i]?.width ?? 50;
      doc.text(c, x + 2, y + 2, { width: w - 4 });
      x += w;
    });
    doc.y = y + h;
    doc
      .moveTo(left, doc.y)
      .lineTo(left + width, doc.y)
      .lineWidth(bold ? 0.75 : 0.25)
      .stroke();
  };
  const header = COLUMNS.map((c) => c.title);
  row(header, true);
  const sorted = [...input.readings].sort(
    (a, b) => Date.parse(a.effective) - Date.parse(b.effective) || a.index - b.index,
  );
  for (const r of sorted) {
    row(
      [
        ukDateTime(r.effective),
        winAnsi(`${READING_KINDS[r.kind].label}\n${r.snomed.code} ${r.snomed.display}`),
        readingValue(r),
        winAnsi(readingUnit(r)),
        r.status,
        winAnsi(r.device ?? ''),
      ],
      false,
    );
  }

  // Footer on every page: the patient's NHS number and Page x of y.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const y = doc.page.height - MARGIN + 10;
    doc.font(FONT).fontSize(SMALL);
    // Text below the bottom margin would start a new page: write it with the margin lifted.
    const margins = doc.page.margins;
    doc.page.margins = { ...margins, bottom: 0 };
    doc.text(`NHS no. ${spacedNhsNumber(p.nhsNumber)}`, left, y, { width, lineBreak: false });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, left, y, {
      width,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins = margins;
  }
  doc.end();
  // PDFKit writes synchronously into its stream's buffer: read it all back now.
  const chunks: Buffer[] = [];
  for (let chunk = doc.read() as Buffer | null; chunk !== null; chunk = doc.read() as Buffer | null) {
    chunks.push(chunk);
  }
  const pdf = Buffer.concat(chunks);
  if (!pdf.subarray(-8).toString('latin1').includes('%%EOF')) {
    throw new Error('PDFKit did not finish the document synchronously');
  }
  return new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength);
}
