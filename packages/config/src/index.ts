export { appKind, servableApp, type AppKind, type ServableApp } from './app-spec.js';
export { formatBind, parseBind, parsePeerPattern, parseTcpBind, type BindTarget, type PeerPattern, type TcpBind } from './bind.js';
export { defineConfig } from './define.js';
export { loadConfig, resolveConfig, reviveConfig, type CliValues, type Env, type LoadedConfig, type LoadOptions, type PeerValues } from './load.js';
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
export { describeSource, type Source } from './sources.js';
export { closest } from './suggest.js';
export { formatValue, type ValueType } from './values.js';
