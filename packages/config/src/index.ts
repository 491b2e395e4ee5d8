export { appKind, servableApp, type AppKind, type ServableApp } from './app-spec.js';
export { formatBind, parseBind, parsePeerPattern, parseTcpBind, type BindTarget, type PeerPattern, type TcpBind } from './bind.js';
export { defineConfig } from './define.js';
export { readConfigFile, type ConfigFile } from './file.js';
export { gunicornView } from './gunicorn-view.js';
export { readMachineLimits, usableCpus, type Limit, type MachineLimits } from './machine-limits.js';
export { loadConfig, resolveConfig, reviveConfig, type CliValues, type Env, type KeyHint, type LoadedConfig, type LoadOptions, type PeerValues } from './load.js';
export { renderSettingsReference } from './reference.js';
export {
  envNames,
  isSettingKey,
  settingKeys,
  settings,
  type Config,
  type ConfigInput,
  type Section,
  type Setting,
  type SettingKey,
} from './settings.js';
export { parseStaticMount, staticMounts, type StaticMount } from './static-mount.js';
export { parseStatsdAddress, type StatsdAddress } from './statsd-address.js';
export { describeSource, type Source } from './sources.js';
export { minimumVersion, secureContextOptions, type TlsSettings } from './tls.js';
export { closest } from './suggest.js';
export { formatValue, type ValueType } from './values.js';
