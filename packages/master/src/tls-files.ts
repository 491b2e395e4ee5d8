// The TLS files the workers serve with: read by the master, which often alone can read the key,
// checked the way a worker will use them, and sent to the workers in their boot message; read
// again at every reload, so a renewed certificate needs no restart. Runs in the master.
import { secureContextOptions, type Config, type TlsSettings } from '@bicorn/config';
import { BicornError, type TlsBoot } from '@bicorn/protocol';

/** What the files hold, and the ticket keys; the master adds which listeners serve TLS. */
export type TlsFiles = Omit<TlsBoot, 'listeners'>;

/** The config a generation of workers serves with: the settings, and the TLS files as read for it. */
export type Served = Config & { readonly tls: TlsBoot | null };
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

// node:crypto and node:tls are loaded only with certfile: together about 0.9 MiB that a master
// serving plain HTTP would hold for nothing.
const require = createRequire(import.meta.url);

/**
 * Reads and checks certfile, keyfile and ca_certs; null without certfile. New session ticket
 * keys each time, so a reload also rotates them. Throws TLS_FILE_INVALID naming the file.
 */
export function readTlsFiles(config: TlsSettings, cwd: string): TlsFiles | null {
  if (config.certfile === null || config.keyfile === null) return null;
  const { X509Certificate, createPrivateKey, randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const { createSecureContext } = require('node:tls') as typeof import('node:tls');
  const cert = readPem('certfile', config.certfile, cwd);
  const key = readPem('keyfile', config.keyfile, cwd);
  const ca = config.ca_certs === null ? null : readPem('ca_certs', config.ca_certs, cwd);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw invalid('certfile', config.certfile, `not a PEM certificate (${reasonOf(error)})`);
  }
  try {
    const privateKey = createPrivateKey(config.keyfile_password === null ? key : { key, passphrase: config.keyfile_password });
    if (!certificate.checkPrivateKey(privateKey)) throw invalid('keyfile', config.keyfile, `is not the private key of certfile ${config.certfile}`);
  } catch (error) {
    if (error instanceof BicornError) throw error;
    throw invalid('keyfile', config.keyfile, keyProblem(error, config.keyfile_password !== null));
  }
  if (ca !== null && config.ca_certs !== null) {
    try {
      new X509Certificate(ca);
    } catch (error) {
      throw invalid('ca_certs', config.ca_certs, `not a PEM certificate (${reasonOf(error)})`);
    }
  }
  try {
    createSecureContext(secureContextOptions(config, { cert, key, ca }));
  } catch (error) {
    // The files are sound by now: what is left is the cipher list or the version.
    throw new BicornError('CONFIG_INVALID', { problems: [`ciphers ${JSON.stringify(config.ciphers ?? '')} with tls_min_version ${config.tls_min_version}: ${reasonOf(error)}`] });
  }
  return { cert, key, ca, ticketKeys: randomBytes(48).toString('base64') };
}

function readPem(setting: string, file: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(setting, file, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'cannot be read by the user bicorn runs as (start bicorn as a user that can read it)' : reasonOf(error));
  }
}

function keyProblem(error: unknown, withPassword: boolean): string {
  const reason = reasonOf(error);
  if (/bad decrypt|passphrase|password/i.test(reason)) return withPassword ? 'the password (keyfile_password) does not decrypt it' : 'is encrypted: set keyfile_password';
  return `not a PEM private key (${reason})`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function invalid(setting: string, file: string, reason: string): BicornError<'TLS_FILE_INVALID'> {
  return new BicornError('TLS_FILE_INVALID', { setting, file, reason });
}
