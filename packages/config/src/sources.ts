// Where a setting's value came from, so that every message can say so.

export type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'cli'; readonly flag: string };

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.file;
    case 'env':
      return source.name;
    case 'cli':
      return source.flag;
  }
}
