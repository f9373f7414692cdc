// Names and link targets as the guest sends them: NUL-terminated byte strings inside a request's
// arguments. A name is one path component: never empty, never "." or "..", no '/', at most
// NAME_MAX bytes. Everything here is pure and returns an errno instead of throwing.

import { EINVAL, ENAMETOOLONG, NAME_MAX, PATH_MAX } from './abi';

/** A parsed NUL-terminated string: its bytes as latin1 (one char per byte) and where the next starts. */
export interface CString {
  text: string;
  next: number;
}

/** Reads the NUL-terminated string at `at` of b[0, end); null when no NUL comes before `end`. */
export function readCString(b: Uint8Array, at: number, end: number): CString | null {
  for (let i = at; i < end; i++) {
    if (b[i] === 0) return { text: latin1(b, at, i), next: i + 1 };
  }
  return null;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i += 4096) s += String.fromCharCode(...b.subarray(i, Math.min(to, i + 4096)));
  return s;
}

/** 0 for a usable single component, else the errno to answer. */
export function checkName(name: string): number {
  if (name.length === 0 || name === '.' || name === '..') return EINVAL;
  if (name.length > NAME_MAX) return ENAMETOOLONG;
  if (name.indexOf('/') >= 0) return EINVAL; // NUL cannot occur: readCString stops at the first
  return 0;
}

/** 0 for a symlink target the host can store (any bytes but NUL, 1..PATH_MAX-1), else the errno. */
export function checkLinkTarget(target: string): number {
  if (target.length === 0) return EINVAL;
  if (target.length >= PATH_MAX) return ENAMETOOLONG;
  return 0;
}
