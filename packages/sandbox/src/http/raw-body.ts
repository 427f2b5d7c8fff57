import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Makes the (encapsulated) Fastify scope accept any request body as a raw string, so the route
 * itself decides what to do with a wrong media type (the NHS API platform answers its own 415
 * body, not Fastify's).
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}

/** The media type of a request (`type/subtype`, lower case, parameters such as `charset` dropped). */
export function mediaTypeOf(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'];
  if (header === undefined) return undefined;
  return header.split(';', 1)[0]?.trim().toLowerCase();
}

/** The form fields of an `application/x-www-form-urlencoded` body (first value wins on repeats). */
export function formFields(request: FastifyRequest): URLSearchParams {
  return new URLSearchParams(typeof request.body === 'string' ? request.body : '');
}
