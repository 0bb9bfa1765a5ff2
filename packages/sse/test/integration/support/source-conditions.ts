/**
 * Loaded with `node --import` by tests that run `src/main.ts` as a process: the workspace packages
 * (`@aio-connector/*`) resolve to their TypeScript sources, as in vitest. Only they get the
 * `source` condition: dependencies that also publish a `source` export (eventsource-parser does)
 * keep their built JavaScript, which Node can run from node_modules.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!specifier.startsWith('@aio-connector/')) return nextResolve(specifier, context);
    return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'source'] });
  },
});
