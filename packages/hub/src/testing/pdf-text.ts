import { getDocument, VerbosityLevel } from 'pdfjs-dist/legacy/build/pdf.mjs';

/** A PDF read back with Mozilla's PDF.js (a devDependency): its pages' text and its metadata. */
export interface PdfContents {
  pages: string[];
  /** Document information dictionary (Title, Author, CreationDate, …). */
  info: Record<string, unknown>;
}

/** Parses a PDF (throws if it is not one) and extracts each page's text, items joined by spaces. */
export async function pdfText(bytes: Uint8Array): Promise<PdfContents> {
  const task = getDocument({
    data: new Uint8Array(bytes), // PDF.js takes ownership of the buffer it is given
    verbosity: VerbosityLevel.ERRORS,
  });
  const pdf = await task.promise;
  try {
    const pages: string[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const content = await (await pdf.getPage(n)).getTextContent();
      pages.push(
        content.items
          .map((item) => ('str' in item ? item.str : ''))
          .join(' ')
          .replace(/\s+/g, ' ')
          .trim(),
      );
    }
    const meta = await pdf.getMetadata();
    return { pages, info: meta.info as Record<string, unknown> };
  } finally {
    await task.destroy();
  }
}
