// UTF-8 of schema strings: the byte length a string will take (checked against its bound
// before anything is written), and writing and reading it in place. Lone surrogates count
// and are written as U+FFFD (3 bytes), as TextEncoder and Buffer write them.
import { Buffer } from 'node:buffer';

/** Buffer's own UTF-8 copy in and out (as msgpackr uses them): no intermediate object, no partial character. */
interface Utf8Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
}

/** Strings longer than this are measured by Buffer.byteLength (native); shorter ones here, without a call out. */
const MEASURE_IN_JS = 32;

/** The UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > MEASURE_IN_JS) return Buffer.byteLength(s, 'utf8');
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * The byte length of `s` if it is at most `bound` bytes, else -1. A string of more UTF-16
 * units than `bound` never fits (each unit is at least one byte); one of at most a third
 * of it always does (at most three bytes per unit).
 */
export function utf8LengthWithin(s: string, bound: number): number {
  if (s.length > bound) return -1;
  const bytes = utf8Length(s);
  return bytes <= bound ? bytes : -1;
}

/**
 * Writes `s` at byte `at` of `buf`, at most `max` bytes; Buffer's write never cuts a
 * character (a string measured at most `max` bytes is written whole). Returns the bytes written.
 */
export function writeUtf8(buf: Buffer, s: string, at: number, max: number): number {
  return max === 0 || s.length === 0 ? 0 : (buf as unknown as Utf8Buffer).utf8Write(s, at, max);
}

/** The string of `length` bytes at `at` (invalid sequences become U+FFFD, as Buffer's toString does). */
export function readUtf8(buf: Buffer, at: number, length: number): string {
  return length === 0 ? '' : (buf as unknown as Utf8Buffer).utf8Slice(at, at + length);
}
