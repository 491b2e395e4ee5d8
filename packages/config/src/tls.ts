// How the TLS settings become node:tls options, the same in the master's check of the files
// and in the workers that serve them. Runs in the master and in workers.
import type { SecureContextOptions } from 'node:tls';
import type { Config } from './settings.js';

export type TlsSettings = Pick<Config, 'certfile' | 'keyfile' | 'keyfile_password' | 'ca_certs' | 'ciphers' | 'tls_min_version' | 'ssl_version'>;

/** The options of a secure context for these files' contents. */
export function secureContextOptions(config: TlsSettings, files: { readonly cert: string; readonly key: string; readonly ca: string | null }): SecureContextOptions {
  return {
    cert: files.cert,
    key: files.key,
    ...(config.keyfile_password === null ? {} : { passphrase: config.keyfile_password }),
    ...(files.ca === null ? {} : { ca: files.ca }),
    ...(config.ciphers === null ? {} : { ciphers: config.ciphers }),
    minVersion: minimumVersion(config),
  };
}

/** tls_min_version, or the minimum the deprecated ssl_version names. */
export function minimumVersion(config: Pick<Config, 'tls_min_version' | 'ssl_version'>): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' {
  return config.ssl_version === null || config.ssl_version === 'any' ? config.tls_min_version : config.ssl_version;
}
