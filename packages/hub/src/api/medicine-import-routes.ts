import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  DmdImportConflictError,
  type DmdImportView,
  dmdImportBusy,
  getDmdImport,
  listDmdImports,
  queueDmdImport,
} from '../medicines/imports.js';
import type { Store } from '../store/database.js';
import type { AccessControl } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import { outcome } from './json-routes.js';

/*
 * dm+d imports over HTTP (the console's Medicines page; `medicines.import`):
 *   POST /medicines/imports        a release zip as the body → 202 + Location, a `dmd.import` job
 *   GET  /medicines/imports        newest first
 *   GET  /medicines/imports/{id}   status, progress, counts or the error
 * The body is streamed to a file under the data dir (never held in memory), up to a size limit.
 * Starting an import is audited (it changes what every instance serves); reads are not (no patient data).
 */

export interface MedicineImportRoutesOptions {
  store: Store;
  access: AccessControl;
  /** Uploads go to `<dataDir>/dmd/uploads/<id>/`. */
  dataDir: string;
  /** Largest body accepted (default 2 GiB; a full NHSBSA release zip is ~50 MB). */
  maxUploadBytes?: number;
  now: () => Date;
  /** Runs the queued job now rather than at the runner's next poll. */
  notifyJobs?: () => void;
}

export const DEFAULT_DMD_UPLOAD_MAX_BYTES = 2 * 1024 ** 3;
const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed'];
/** A zip starts with a local file header, or is empty (end of central directory): APPNOTE.TXT 4.3.7, 4.3.16. */
const ZIP_MAGIC = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.zip$/;

class UploadRefused extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The release's file name from `Content-Disposition: attachment; filename="…zip"`, if a plain one. */
function fileNameOf(disposition: string | undefined): string | undefined {
  const name = disposition?.match(/filename="?([^";]+)"?/i)?.[1]?.trim();
  return name && SAFE_NAME.test(name) ? name : undefined;
}

const importSchema = { type: 'object', additionalProperties: true } as const;

export async function medicineImportRoutes(
  app: FastifyInstance,
  options: MedicineImportRoutesOptions,
): Promise<void> {
  const { store, access, now } = options;
  const maxBytes = options.maxUploadBytes ?? DEFAULT_DMD_UPLOAD_MAX_BYTES;

  // Bodies reach the handler as streams (scoped to this plugin), so that access is decided before a
  // byte is read and a wrong media type is answered by the route, after it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type('application/json').send(JSON.stringify(body));

  app.post(
    '/medicines/imports',
    {
      schema: {
        summary: 'Start a dm+d release import (body: the NHSBSA release zip)',
        description:
          'Streams the zip to the data dir (size-limited), queues a durable import job and answers 202 with Location /medicines/imports/{id}. One import at a time: 409 while another is queued or running. Needs medicines.import; audited.',
        tags: ['Medicines'],
        consumes: ZIP_TYPES,
        response: { 202: importSchema },
      },
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'medicines.import', { auditNhsNumbers: [] });
      if (!caller) return reply;
      const audit = (status: number, errorCode: string | null) =>
        access.audit(request, {
          action: 'medicines.import',
          caller,
          nhsNumbers: [],
          outcome: status < 400 ? 'success' : 'error',
          errorCode,
          httpStatus: status,
        });
      const refuse = async (
        status: number,
        code: OperationOutcome['issue'][number]['code'],
        text: string,
      ) => {
        await audit(status, code);
        return sendFhir(reply, status, outcome(code, text));
      };

      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!ZIP_TYPES.includes(type)) {
        return refuse(
          415,
          'not-supported',
          `Send the dm+d release as ${ZIP_TYPES[0]} (got ${type || 'no type'})`,
        );
      }
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        return refuse(413, 'too-long', `The release is larger than the limit of ${maxBytes} bytes`);
      }

      // Refused before a byte is read when another import is under way (checked again once stored).
      const busy = await dmdImportBusy(store, { now });
      if (busy) {
        reply.header('connection', 'close');
        return refuse(409, 'conflict', busy);
      }

      const id = randomUUID();
      const dir = join(options.dataDir, 'dmd', 'uploads', id);
      const fileName = fileNameOf(request.headers['content-disposition']) ?? 'dmd-release.zip';
      const path = join(dir, fileName);
      let bytes = 0;
      let head = Buffer.alloc(0);
      const check = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            callback(new UploadRefused(413, `The release is larger than the limit of ${maxBytes} bytes`));
            return;
          }
          if (head.length < 4) {
            head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
            if (head.length === 4 && !ZIP_MAGIC.some((m) => m.equals(head))) {
              callback(new UploadRefused(400, 'The body is not a zip file (no zip signature)'));
              return;
            }
          }
          callback(null, chunk);
        },
      });
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      try {
        await mkdir(dir, { recursive: true });
        await pipeline(body, check, createWriteStream(path, { flags: 'wx' }));
        if (head.length < 4) throw new UploadRefused(400, 'The body is not a zip file (too short)');
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        if (error instanceof UploadRefused) {
          // The rest of a refused body is not read: the connection closes after the answer.
          if (!body.readableEnded) reply.header('connection', 'close');
          return refuse(error.status, error.status === 413 ? 'too-long' : 'invalid', error.message);
        }
        throw error;
      }

      let view: DmdImportView | undefined;
      try {
        const job = await queueDmdImport(
          store,
          { path, fileName, bytes, correlationId: request.correlationId },
          { now },
        );
        view = await getDmdImport(store, job.id);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        if (error instanceof DmdImportConflictError) return refuse(409, 'conflict', error.message);
        throw error;
      }
      await audit(202, null);
      options.notifyJobs?.();
      request.log.info({ importId: view?.id, bytes }, 'dm+d import queued');
      reply.header('location', `/medicines/imports/${view?.id}`);
      return send(reply, 202, { import: view });
    },
  );

  app.get(
    '/medicines/imports',
    {
      schema: {
        summary: 'dm+d imports started over HTTP, newest first (status, progress, counts, errors)',
        tags: ['Medicines'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'medicines.import', { auditNhsNumbers: [] });
      if (!caller) return reply;
      return send(reply, 200, { imports: await listDmdImports(store) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/medicines/imports/:id',
    {
      schema: {
        summary:
          'One dm+d import: queued, importing (with progress), active, superseded or failed (with the error)',
        tags: ['Medicines'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: importSchema },
      },
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'medicines.import', { auditNhsNumbers: [] });
      if (!caller) return reply;
      const found = /^[0-9a-f-]{36}$/i.test(request.params.id)
        ? await getDmdImport(store, request.params.id)
        : undefined;
      if (!found) return sendFhir(reply, 404, outcome('not-found', 'No dm+d import with this id'));
      return send(reply, 200, found);
    },
  );
}
