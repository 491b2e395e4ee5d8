import { describe, expect, it } from 'vitest';
import { parseAppSpec } from './load-module.js';

describe('parseAppSpec', () => {
  it('takes the default export when no name is given', () => {
    expect(parseAppSpec('./server.mjs')).toEqual({ file: './server.mjs', exportName: 'default' });
  });

  it('takes the name after the last colon', () => {
    expect(parseAppSpec('src/app.js:handler')).toEqual({ file: 'src/app.js', exportName: 'handler' });
    expect(parseAppSpec('/srv/a:b/app.cjs:$app_1')).toEqual({ file: '/srv/a:b/app.cjs', exportName: '$app_1' });
  });

  it('keeps a colon that is not followed by an identifier as part of the path', () => {
    expect(parseAppSpec('C:\\srv\\app.mjs')).toEqual({ file: 'C:\\srv\\app.mjs', exportName: 'default' });
    expect(parseAppSpec('app.mjs:')).toEqual({ file: 'app.mjs:', exportName: 'default' });
  });
});
