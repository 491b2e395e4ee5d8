import { describe, expect, it } from 'vitest';
import { parseDjangoCheck } from './django-check.js';

// As Django 5.2 prints it (to stderr, after SystemCheckError, when the fail level is reached).
const report = `SystemCheckError: System check identified some issues:

ERRORS:
mysite.Book: (models.E001) 'swappable' refers to the model 'x' that has not been installed.
\tHINT: Install it.

WARNINGS:
?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is served only over SSL, you may want to consider setting a value.
?: (security.W009) Your SECRET_KEY has less than 50 characters,
more than 5 unique characters, or it's prefixed with 'django-insecure-'.
\tHINT: Generate a long and random value.

INFOS:
?: (app.I001) A note.

System check identified 4 issues (0 silenced).
`;

describe("reading Django's check report", () => {
  it('gives each issue with its level, id, object, message and hint', () => {
    expect(parseDjangoCheck(report)).toEqual([
      { level: 'error', id: 'models.E001', object: 'mysite.Book', message: "'swappable' refers to the model 'x' that has not been installed.", hint: 'Install it.' },
      {
        level: 'warning',
        id: 'security.W004',
        object: '?',
        message: 'You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is served only over SSL, you may want to consider setting a value.',
        hint: undefined,
      },
      {
        level: 'warning',
        id: 'security.W009',
        object: '?',
        message: "Your SECRET_KEY has less than 50 characters, more than 5 unique characters, or it's prefixed with 'django-insecure-'.",
        hint: 'Generate a long and random value.',
      },
      { level: 'info', id: 'app.I001', object: '?', message: 'A note.', hint: undefined },
    ]);
  });

  it('finds nothing in a clean report or in a traceback', () => {
    expect(parseDjangoCheck('System check identified no issues (0 silenced).\n')).toEqual([]);
    expect(parseDjangoCheck('Traceback (most recent call last):\n  File "manage.py", line 8\nModuleNotFoundError: No module named \'django\'\n')).toEqual([]);
  });
});
