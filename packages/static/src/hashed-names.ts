// Which static files carry a hash of their content in their name, and so never change under it:
// those listed in Django's staticfiles.json manifest, or, without one, names in the forms that
// Django, webpack, Parcel and Vite write. Without I/O; runs in the worker.

/** Django's ManifestStaticFilesStorage writes it at the root of STATIC_ROOT. */
export const DJANGO_MANIFEST = 'staticfiles.json';

/**
 * The hashed names of a staticfiles.json (the values of its `paths`, relative to the
 * directory); undefined when the text is not such a manifest.
 */
export function parseManifest(text: string): ReadonlySet<string> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const paths = typeof data === 'object' && data !== null ? (data as { paths?: unknown }).paths : undefined;
  if (typeof paths !== 'object' || paths === null) return undefined;
  return new Set(Object.values(paths).filter((value): value is string => typeof value === 'string'));
}

/**
 * By name alone, for directories without a manifest (all lower case hex needs a letter, so that
 * a date such as `backup.20240101.tar` is not taken for a hash):
 * - `name.<8 to 32 hex digits>.ext...`: Django (12), webpack's `[name].[contenthash]` (20, or
 *   the length asked for), Parcel and Create React App (8);
 * - `<16 to 32 hex digits>.ext`: webpack's asset modules (`[hash][ext]`);
 * - `assets/name-<8 characters>.ext`: Vite (Rollup's base64url hash; it needs an upper case
 *   letter or a digit, so that `logo-original.png` is not one).
 */
export function looksHashed(relativePath: string): boolean {
  const slash = relativePath.lastIndexOf('/');
  const name = relativePath.slice(slash + 1);
  const parts = name.split('.');
  for (let i = 1; i < parts.length - 1; i++) if (isHexHash(parts[i] ?? '', 8)) return true;
  const stem = parts[0] ?? '';
  if (parts.length > 1 && isHexHash(stem, 16)) return true;
  const inAssets = relativePath.startsWith('assets/') || relativePath.slice(0, slash + 1).includes('/assets/');
  if (!inAssets || parts.length < 2 || stem.length < 10 || stem.at(-9) !== '-') return false;
  const hash = stem.slice(-8);
  return /^[\w-]{8}$/.test(hash) && /[A-Z0-9]/.test(hash);
}

function isHexHash(text: string, min: number): boolean {
  return text.length >= min && text.length <= 32 && /^[0-9a-f]+$/.test(text) && /[a-f]/.test(text);
}
