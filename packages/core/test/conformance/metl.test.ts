/**
 * Runs the official METL conformance suite (`../shared/aio/metl`) against the protocol components:
 * every case under `Protocol/**` must pass (or be listed with a reason in `metl-skips.json`), and
 * every case under `SanityCheck/**` except the canaries must fail, which shows that the harness
 * really checks what the cases say.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MetlCheckFailure,
  components,
  loadCases,
  loadDefaults,
  metlRoot,
  supportedFeatures,
  type Component,
} from './metl-support.ts';
import { runCase } from './metl-testers.ts';

const root = metlRoot();
const skips = JSON.parse(
  readFileSync(new URL('./metl-skips.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const caseTimeoutInMs = 90_000;

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}
const protocol = new Map<Component, Tally>(
  components.map((c) => [c, { passed: 0, failed: 0, skipped: 0 }]),
);
const sanity = { detected: 0, missed: 0, canariesPassed: 0, canariesFailed: 0 };

if (root === undefined) {
  describe('METL conformance', () => {
    it.skip('skipped: the METL suite was not found at ../shared/aio/metl beside the repository', () => {});
  });
} else {
  describe('METL Protocol', () => {
    for (const component of components) {
      const folder = join(root, 'Protocol', component);
      const defaults = loadDefaults(join(folder, 'defaults.toml'));
      const tally = protocol.get(component) as Tally;
      describe.concurrent(component, () => {
        loadCases(folder).forEach((metl, index) => {
          const unsupported = metl.requires.filter((feature) => !supportedFeatures.has(feature));
          const reason =
            unsupported.length > 0
              ? `requires unsupported ${unsupported.join(', ')}`
              : skips[metl.name];
          if (reason !== undefined) {
            tally.skipped++;
            it.skip(`${metl.name} (${reason})`, () => {});
            return;
          }
          it(
            metl.name,
            async () => {
              try {
                await runCase(component, metl, index, defaults);
                tally.passed++;
              } catch (error) {
                tally.failed++;
                throw error;
              }
            },
            caseTimeoutInMs,
          );
        });
      });
    }
  });

  describe('METL SanityCheck', () => {
    for (const component of components) {
      const defaults = loadDefaults(join(root, 'Protocol', component, 'defaults.toml'));
      describe.concurrent(component, () => {
        loadCases(join(root, 'SanityCheck', component)).forEach((metl, index) => {
          const canary = metl.name.endsWith('Canary');
          it(
            canary ? `${metl.name} passes` : `${metl.name} is detected`,
            async () => {
              let error: unknown;
              try {
                await runCase(component, metl, index, defaults);
              } catch (caught) {
                error = caught;
              }
              if (canary) {
                if (error === undefined) sanity.canariesPassed++;
                else sanity.canariesFailed++;
                expect(error, 'the canary must pass').toBeUndefined();
              } else {
                if (error instanceof MetlCheckFailure) sanity.detected++;
                else sanity.missed++;
                expect(error, 'a sanity case must fail one of its checks').toBeInstanceOf(
                  MetlCheckFailure,
                );
              }
            },
            caseTimeoutInMs,
          );
        });
      });
    }
  });

  afterAll(() => {
    const parts = components.map((c) => {
      const t = protocol.get(c) as Tally;
      return `${c} ${t.passed}/${t.passed + t.failed + t.skipped}${t.skipped > 0 ? ` (${t.skipped} skipped)` : ''}${t.failed > 0 ? ` (${t.failed} FAILED)` : ''}`;
    });
    const total = [...protocol.values()].reduce(
      (sum, t) => ({
        passed: sum.passed + t.passed,
        failed: sum.failed + t.failed,
        skipped: sum.skipped + t.skipped,
      }),
      { passed: 0, failed: 0, skipped: 0 },
    );
    const sanityTotal = sanity.detected + sanity.missed;
    console.log(
      `METL Protocol: ${total.passed} passed, ${total.skipped} skipped, ${total.failed} failed (${parts.join('; ')}); ` +
        `SanityCheck: ${sanity.detected}/${sanityTotal} detected, canaries ${sanity.canariesPassed}/${sanity.canariesPassed + sanity.canariesFailed} passed`,
    );
  });
}
