// The public API of create-aio-connector: a curated list.

export {
  TargetNotEmptyError,
  defaultConnectorName,
  existingEntries,
  scaffold,
} from './scaffold.ts';
export type { ScaffoldOptions, ScaffoldResult } from './scaffold.ts';
export {
  defaultTemplate,
  isTemplateName,
  renamedFiles,
  templateNames,
  templates,
  templatesRoot,
} from './templates.ts';
export type { TemplateInfo, TemplateName } from './templates.ts';
export {
  maxConnectorNameLength,
  toValidConnectorName,
  validateConnectorName,
  validateEndpointType,
  validateSdkVersion,
} from './validate.ts';
export { placeholdersOf, renderTemplate } from './render.ts';
export { generatorVersion, toolVersions } from './versions.ts';
export { cliExitCodes, main, packageManagerFromUserAgent, packageManagers } from './cli.ts';
export type { CliIo, PackageManager } from './cli.ts';
