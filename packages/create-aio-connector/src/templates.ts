/**
 * The templates the scaffolder offers, and where their files are. Templates are plain project
 * files under `templates/<name>/`: they are copied as they are, with `{{placeholder}}`s replaced
 * and a few files renamed (`_gitignore` → `.gitignore`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the scaffolder knows about a template. */
export interface TemplateInfo {
  /** The name given to `--template`. */
  readonly name: string;
  /** A short label for the template picker. */
  readonly title: string;
  /** One sentence on what the generated connector does. */
  readonly description: string;
  /** The inbound endpoint type used when none is given. */
  readonly defaultEndpointType: string;
  /** The `@aio-connector/*` packages the generated project depends on at run time. */
  readonly packages: readonly string[];
}

/**
 * Every template, in the order the picker shows them.
 *
 * @example
 * ```ts
 * import { templates } from 'create-aio-connector';
 * for (const t of Object.values(templates)) console.log(`${t.name}: ${t.description}`);
 * ```
 */
export const templates = Object.freeze({
  polling: Object.freeze({
    name: 'polling',
    title: 'Polling',
    description:
      'samples each dataset on a timer; starts as an HTTP GET sampler (like the .NET aiopollingtelemetryconnector template)',
    defaultEndpointType: 'Contoso.Http',
    packages: Object.freeze(['@aio-connector/core']),
  }),
  'event-driven': Object.freeze({
    name: 'event-driven',
    title: 'Event-driven',
    description:
      'holds a connection per asset and forwards what arrives; starts as a TCP line reader (like the .NET aioeventdriventelemetryconnector template)',
    defaultEndpointType: 'Contoso.Tcp',
    packages: Object.freeze(['@aio-connector/core']),
  }),
  rest: Object.freeze({
    name: 'rest',
    title: 'REST',
    description:
      'the ready-made REST/HTTP polling connector of @aio-connector/rest, configured in code',
    defaultEndpointType: 'Microsoft.Rest',
    packages: Object.freeze(['@aio-connector/core', '@aio-connector/rest']),
  }),
  sse: Object.freeze({
    name: 'sse',
    title: 'Server-Sent Events',
    description:
      'the ready-made Server-Sent Events connector of @aio-connector/sse, configured in code',
    defaultEndpointType: 'Microsoft.Sse',
    packages: Object.freeze(['@aio-connector/core', '@aio-connector/sse']),
  }),
} as const satisfies Record<string, TemplateInfo>);

/** The name of a template. */
export type TemplateName = keyof typeof templates;

/**
 * The template names, in the order the picker shows them.
 *
 * @example
 * ```ts
 * import { templateNames } from 'create-aio-connector';
 * templateNames; // ['polling', 'event-driven', 'rest', 'sse']
 * ```
 */
export const templateNames = Object.freeze(Object.keys(templates) as TemplateName[]);

/**
 * The template used when none is given.
 *
 * @example
 * ```ts
 * import { defaultTemplate, templates } from 'create-aio-connector';
 * templates[defaultTemplate].defaultEndpointType; // 'Contoso.Http'
 * ```
 */
export const defaultTemplate: TemplateName = 'polling';

/**
 * Whether `name` is the name of a template.
 *
 * @example
 * ```ts
 * import { isTemplateName } from 'create-aio-connector';
 * isTemplateName('sse'); // true
 * ```
 */
export function isTemplateName(name: unknown): name is TemplateName {
  return typeof name === 'string' && Object.hasOwn(templates, name);
}

/**
 * Files stored under another name in the templates, because npm leaves `.gitignore` out of
 * published packages: the template name → the name in the generated project.
 *
 * @example
 * ```ts
 * import { renamedFiles } from 'create-aio-connector';
 * renamedFiles['_gitignore']; // '.gitignore'
 * ```
 */
export const renamedFiles: Readonly<Record<string, string>> = Object.freeze({
  _gitignore: '.gitignore',
  _dockerignore: '.dockerignore',
});

/**
 * The folder holding the template folders: `templates/` inside the published package, or the
 * repository's `templates/` when running from a checkout. Throws when neither exists.
 *
 * @example
 * ```ts
 * import { join } from 'node:path';
 * import { templatesRoot } from 'create-aio-connector';
 * const pollingTemplate = join(templatesRoot(), 'polling');
 * ```
 */
export function templatesRoot(): string {
  const candidates = [
    new URL('../templates/', import.meta.url),
    new URL('../../../templates/', import.meta.url),
  ];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `the templates folder is missing: looked in ${candidates.map((c) => fileURLToPath(c)).join(' and ')}`,
  );
}
