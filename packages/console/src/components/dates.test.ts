import { describe, expect, it } from 'vitest';
import { dayProblem, isoDate, NO_DAY, partsOf } from './dates';

const day = (d: string, m: string, y: string) => ({ day: d, month: m, year: y });

describe('NHS.UK date input helpers (service-manual.nhs.uk/design-system/components/date-input)', () => {
  it('reads a real date typed as day, month and year', () => {
    expect(isoDate(day('15', '3', '1984'))).toBe('1984-03-15');
    expect(isoDate(day(' 01 ', '12', '2025'))).toBe('2025-12-01');
    expect(isoDate(day('29', '2', '2024'))).toBe('2024-02-29');
  });

  it('refuses dates that cannot be correct', () => {
    expect(isoDate(day('29', '2', '2025'))).toBeUndefined();
    expect(isoDate(day('31', '4', '2025'))).toBeUndefined();
    expect(isoDate(day('1', '13', '2025'))).toBeUndefined();
    expect(isoDate(day('1', '1', '25'))).toBeUndefined();
  });

  it('splits a YYYY-MM-DD date into the fields, blank for anything else', () => {
    expect(partsOf('2005-06-16')).toEqual(day('16', '6', '2005'));
    expect(partsOf(null)).toEqual(NO_DAY);
    expect(partsOf('16/06/2005')).toEqual(NO_DAY);
  });

  it('says what is wrong in the design system’s words', () => {
    expect(dayProblem(NO_DAY, 'Date of birth', 'Enter a date of birth')).toBe('Enter a date of birth');
    expect(dayProblem(NO_DAY, 'From date')).toBeUndefined();
    expect(dayProblem(day('1', '', '2025'), 'From date')).toBe('From date must include a month');
    expect(dayProblem(day('', '', '2025'), 'To date')).toBe('To date must include a day and month');
    expect(dayProblem(day('1', '2', '25'), 'To date')).toBe('Year must include 4 numbers');
    expect(dayProblem(day('31', '2', '2025'), 'To date')).toBe('To date must be a real date');
    expect(dayProblem(day('28', '2', '2025'), 'To date')).toBeUndefined();
  });
});
