import { describe, expect, it } from 'vitest';
import { breakParts } from './breakable-text';

describe('breakParts: where a machine value may wrap', () => {
  it.each([
    ['settings.mailbox.change', ['settings.', 'mailbox.', 'change']],
    // A URL's origin stays whole (no break inside a host name or address).
    [
      'http://127.0.0.1:9000/personal-demographics/FHIR/R4/',
      ['http://127.0.0.1:9000/', 'personal-', 'demographics/', 'FHIR/', 'R4/'],
    ],
    ['https://sandbox.api.service.nhs.uk', ['https://sandbox.api.service.nhs.uk']],
    [
      'https://int.api.service.nhs.uk/oauth2/token?x=1',
      ['https://int.api.service.nhs.uk/', 'oauth2/', 'token?x=1'],
    ],
    ['3f2a9c1e-7b4d-4c2a-9e1f-0a1b2c3d4e5f', ['3f2a9c1e-', '7b4d-', '4c2a-', '9e1f-', '0a1b2c3d4e5f']],
    ['20200529155357895317_3573F8', ['20200529155357895317_', '3573F8']],
    ['GPFED_CONSULT_REPORT', ['GPFED_', 'CONSULT_', 'REPORT']],
    ['X26ABC1', ['X26ABC1']],
    ['', ['']],
  ])('%s', (text, parts) => {
    expect(breakParts(text)).toEqual(parts);
    expect(breakParts(text).join('')).toBe(text);
  });
});
