// Where a setting's value came from, so that every message can say so.

export type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string }
  /** `flag`: the flag within a variable that holds a command line, as GUNICORN_CMD_ARGS does. */
  | { readonly kind: 'env'; readonly name: string; readonly flag?: string }
  | { readonly kind: 'cli'; readonly flag: string };

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.file;
    case 'env':
      return source.flag === undefined ? source.name : `${source.name} (${source.flag})`;
    case 'cli':
      return source.flag;
  }
}
