// The host checks of the audio options before a machine starts (declared as their preflight in
// index.ts): a WAV file to write needs a folder that exists and that we may write in; a WAV file
// to read must be there and be a WAV. Without them a recording was lost, or capture switched to
// silence, only at the guest's first START.

import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAudioSpec } from '../../audio';
import { readWavInfo } from '../../audio/wav-format';

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** audioOut's preflight: what is wrong with its WAV path, if it names one. */
export function outputProblem(spec: string): string | undefined {
  const path = wavPath(spec);
  if (path === undefined) return undefined;
  const dir = dirname(path);
  let dirIsFolder: boolean;
  try {
    dirIsFolder = statSync(dir).isDirectory();
  } catch {
    return `the folder ${dir} does not exist: create it, or write the WAV file somewhere else`;
  }
  if (!dirIsFolder) return `${dir} is not a folder`;
  let exists = true;
  try {
    if (statSync(path).isDirectory()) return `${path} is a folder: name a file in it, e.g. ${resolve(path, 'out.wav')}`;
  } catch {
    exists = false;
  }
  try {
    accessSync(exists ? path : dir, constants.W_OK);
  } catch (e) {
    return `cannot write ${exists ? path : `in ${dir}`} (${code(e)}): choose a place you can write to`;
  }
  return undefined;
}

/** audioIn's preflight: what is wrong with its WAV file, if it names one. */
export function inputProblem(spec: string): string | undefined {
  const path = wavPath(spec);
  if (path === undefined) return undefined;
  try {
    if (!statSync(path).isFile()) return `${path} is not a file: give a WAV file to capture from`;
    accessSync(path, constants.R_OK);
  } catch (e) {
    return `${path} ${code(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${code(e)})`}: give a WAV file to capture from`;
  }
  try {
    readWavInfo(path);
  } catch (e) {
    return `${(e as Error).message}: give a PCM or float WAV file (e.g. made with "sox -n -r 48000 -c 2 -b 16 in.wav synth 3 sine 1000")`;
  }
  return undefined;
}

function wavPath(spec: string): string | undefined {
  const p = parseAudioSpec(spec); // the option's check already refused a bad spec
  return p.kind === 'wav' ? resolve(p.path) : undefined;
}
