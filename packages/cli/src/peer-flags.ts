// The snapshot of gunicorn's and uvicorn's flags (peer-flags.json, written by
// scripts/peer-flags.py from the versions the project pins): what the UVICORN_* variables
// translate to, and the rows of the drop-in table. Read once, in the CLI.
import { readFileSync } from 'node:fs';

export interface GunicornSetting {
  readonly name: string;
  readonly flags: readonly string[];
  readonly takes: 'value' | 'none';
  readonly repeat: boolean;
  readonly section: string;
  readonly summary: string;
}

export interface UvicornParam {
  readonly name: string;
  /** Empty for the APP argument. */
  readonly flags: readonly string[];
  readonly negations: readonly string[];
  readonly env: string | null;
  readonly takes: 'value' | 'none';
  /** Its value is a BOOLEAN even though it is not a flag: `--ws-per-message-deflate false`. */
  readonly boolean: boolean;
  readonly repeat: boolean;
  /** How click splits a repeated option's environment variable. */
  readonly envSplit: 'whitespace' | 'pathsep' | null;
  readonly choices: readonly string[];
  readonly summary: string;
}

export interface PeerFlags {
  readonly gunicorn: { readonly version: string; readonly settings: readonly GunicornSetting[] };
  readonly uvicorn: { readonly version: string; readonly params: readonly UvicornParam[] };
}

let snapshot: PeerFlags | undefined;

export function peerFlags(): PeerFlags {
  // The file is ours, written by our script and checked by a test: its shape is trusted.
  snapshot ??= JSON.parse(readFileSync(new URL('../peer-flags.json', import.meta.url), 'utf8')) as PeerFlags;
  return snapshot;
}
