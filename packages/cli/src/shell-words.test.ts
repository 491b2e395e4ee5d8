import { describe, expect, it } from 'vitest';
import { shellWords } from './shell-words.js';

// Each expected value is what Python's shlex.split gives for the same line.
describe('GUNICORN_CMD_ARGS words', () => {
  it.each([
    ['-w 3 --bind=0.0.0.0:5000', ['-w', '3', '--bind=0.0.0.0:5000']],
    ['--access-logformat "%(h)s %(l)s \\"%(r)s\\""', ['--access-logformat', '%(h)s %(l)s "%(r)s"']],
    ["--name 'my app' -e A=b\\ c", ['--name', 'my app', '-e', 'A=b c']],
    ['a\\$b "x\\$y" "p\\\\q"', ['a$b', 'x\\$y', 'p\\q']],
    ["''", ['']],
    ['  ', []],
  ])('splits %s as shlex does', (line, words) => {
    expect(shellWords(line)).toEqual(words);
  });

  it('refuses an unclosed quote, as shlex does', () => {
    expect(() => shellWords('--name "my app')).toThrow('no closing double quote');
  });
});
