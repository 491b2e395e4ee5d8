// Choosing a precompressed sibling from Accept-Encoding, without I/O. Runs in the worker, per
// request.

export type Encoding = 'br' | 'gzip';

/**
 * The acceptable coding with the highest q among those on disk, brotli on a tie; null for the
 * file itself. `*` stands for every coding not named; `x-gzip` is gzip; q=0 refuses.
 */
export function chooseEncoding(acceptEncoding: string | undefined, available: { readonly br: boolean; readonly gzip: boolean }): Encoding | null {
  if (acceptEncoding === undefined || (!available.br && !available.gzip)) return null;
  let br: number | undefined;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    const q = quality(params);
    if (coding === 'br') br = q;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = q;
  }
  const brQ = available.br ? (br ?? any ?? 0) : 0;
  const gzipQ = available.gzip ? (gzip ?? any ?? 0) : 0;
  if (brQ === 0 && gzipQ === 0) return null;
  return brQ >= gzipQ ? 'br' : 'gzip';
}

/** The q parameter (0 to 1); 1 when absent, 0 when unreadable. */
function quality(params: readonly string[]): number {
  for (const param of params) {
    const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
    if (match !== null) return Math.min(1, Number(match[1]));
    if (/^\s*q\s*=/i.test(param)) return 0;
  }
  return 1;
}
