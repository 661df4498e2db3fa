/**
 * @module
 * FHIR `date` and `dateTime` values as instants (ms since the epoch, UTC) and ages in completed
 * years. A partial date stands for the start of its period ("2023" is 2023-01-01T00:00Z), a date
 * without time for midnight UTC; a time without a zone is invalid in FHIR and is read as NaN, so
 * that the result never depends on the machine's time zone.
 */

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
export const DAY_MS = 86_400_000;

/** A FHIR date or dateTime as ms since the epoch; NaN when it is not one. */
export function parseFhirDateTime(value: string): number {
  const m = DATE_TIME.exec(value);
  if (m === null) return Number.NaN;
  const [, y, mo, d, hh, mm, , zone] = m;
  if (hh !== undefined && zone === undefined) return Number.NaN;
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(y), month)) return Number.NaN;
  if (hh === undefined) return Date.UTC(Number(y), month - 1, day);
  if (Number(hh) > 23 || Number(mm) > 59) return Number.NaN;
  return Date.parse(value);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * Completed years between a birth date and an instant, by the calendar (a birthday on 29 February
 * is passed on 1 March in common years). NaN when either is not a date.
 *
 * @example
 * ageInYears("1960-06-15", Date.UTC(2024, 0, 1)); // 63
 */
export function ageInYears(birthDate: string, at: number): number {
  const birth = parseFhirDateTime(birthDate);
  if (!Number.isFinite(birth) || !Number.isFinite(at)) return Number.NaN;
  const b = new Date(birth);
  const a = new Date(at);
  const before = a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate());
  return a.getUTCFullYear() - b.getUTCFullYear() - (before ? 1 : 0);
}
