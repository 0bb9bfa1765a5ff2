import { describe, expect, it } from 'vitest';
import { validateConnectorMetadata } from '@aio-connector/devkit';
import { DELETE, edit } from '../fixtures/metadata/mutate.ts';
import {
  haveOfficialSchema,
  officialExamples,
  officialVerdict,
  ownValidSamples,
  sharedAio,
} from '../fixtures/metadata/official-schema.ts';

if (!haveOfficialSchema)
  console.warn(`comparing with the official schema skipped: ${sharedAio} is absent`);

/** mulberry32: a small seeded generator, so every run makes the same documents. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Step = string | number;
interface Node {
  readonly path: readonly Step[];
  readonly value: unknown;
}

function nodes(value: unknown, path: readonly Step[] = [], out: Node[] = []): Node[] {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((item, i) => nodes(item, [...path, i], out));
  else if (typeof value === 'object' && value !== null)
    for (const [key, child] of Object.entries(value)) nodes(child, [...path, key], out);
  return out;
}

const dotted = (path: readonly Step[]) =>
  path
    .map((s, i) =>
      typeof s === 'number'
        ? `[${s}]`
        : /^[A-Za-z_$][\w$]*$/u.test(s)
          ? i === 0
            ? s
            : `.${s}`
          : `[${JSON.stringify(s)}]`,
    )
    .join('');

/** Values that sit near the edges of the rules: wrong case, wrong type, out of range. */
const odd: readonly unknown[] = [
  '',
  'x',
  '1',
  '1.0.0',
  'Keep',
  'keep',
  'Mqtt',
  'mqtt',
  'Storage',
  'BrokerStateStore',
  'required',
  'Contoso.Thing',
  'http',
  'string',
  'int',
  0,
  1,
  -1,
  1.5,
  2,
  true,
  false,
  null,
  [],
  ['x'],
  ['x', 'x'],
  [1],
  {},
  { input: 'required' },
  { type: 'object' },
  { destination: 'Mqtt', topic: 't', qos: 1, ttl: 0, retain: 'never' },
];

/** Property names that exist somewhere in the schema (so some additions are valid). */
const names: readonly string[] = [
  'extra',
  'Name',
  'tag',
  'digest',
  'limits',
  'fields',
  'destinations',
  'destination',
  'topic',
  'qos',
  'dataSource',
  'typeRef',
  'description',
  'version',
  'readinessProbe',
  'exec',
  'command',
  'type',
  'properties',
  'required',
  'enum',
  'items',
  'minimum',
  'maxLength',
  'alternativeTypeName',
  'supportedAuthenticationTypes',
  'isOptional',
  'regex',
  'minItems',
  'additionalProperties',
];

const stringBreaks: readonly ((s: string) => string)[] = [
  (s) => s.toUpperCase(),
  (s) => s.toLowerCase(),
  (s) => `${s} `,
  (s) => `v${s}`,
  (s) => s.replaceAll('.', '_'),
  (s) => s.replace(/\d/u, '0$&'),
  (s) => `${s}-`,
  (s) => s.slice(1),
  () => '',
];

function mutate(document: unknown, next: () => number): { document: unknown; steps: string[] } {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  let current = structuredClone(document);
  const steps: string[] = [];
  const count = 1 + Math.floor(next() * 3);
  for (let n = 0; n < count; n++) {
    const all = nodes(current).filter((node) => node.path.length > 0);
    const node = pick(all);
    const at = dotted(node.path);
    const operation = pick(['drop', 'retype', 'add', 'string', 'number', 'array', 'copy']);
    const value = node.value;
    if (operation === 'drop' && typeof node.path.at(-1) === 'string') {
      current = edit(current, at, DELETE);
      steps.push(`drop ${at}`);
    } else if (
      operation === 'add' &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value)
    ) {
      const name = pick(names);
      const added = pick(odd);
      current = edit(current, `${at}[${JSON.stringify(name)}]`, added);
      steps.push(`add ${at}.${name} = ${JSON.stringify(added)}`);
    } else if (operation === 'string' && typeof value === 'string') {
      const broken = pick(stringBreaks)(value);
      current = edit(current, at, broken);
      steps.push(`string ${at} = ${JSON.stringify(broken)}`);
    } else if (operation === 'number' && typeof value === 'number') {
      const changed = pick([-1, 0, 0.5, value + 1, value - 1, 2]);
      current = edit(current, at, changed);
      steps.push(`number ${at} = ${changed}`);
    } else if (operation === 'array' && Array.isArray(value)) {
      const changed = pick([[], [...value, value[0]], [...value, pick(odd)], value.slice(1)]);
      current = edit(current, at, changed);
      steps.push(`array ${at} = ${JSON.stringify(changed)}`);
    } else if (operation === 'copy') {
      const other = pick(all);
      current = edit(current, at, structuredClone(other.value));
      steps.push(`copy ${dotted(other.path)} to ${at}`);
    } else {
      const replaced = pick(odd);
      current = edit(current, at, replaced);
      steps.push(`retype ${at} = ${JSON.stringify(replaced)}`);
    }
  }
  return { document: current, steps };
}

describe('validateConnectorMetadata: random mutations of valid samples', () => {
  it('gives the official schema verdict on 800 mutated documents (seed 20260711)', () => {
    const samples = [...ownValidSamples().values(), ...officialExamples().values()];
    const next = random(20260711);
    const tally = { valid: 0, invalid: 0 };
    for (let i = 0; i < 800; i++) {
      const { document, steps } = mutate(samples[i % samples.length], next);
      const ours = validateConnectorMetadata(document);
      expect(ours.valid).toBe(ours.problems.every((p) => p.severity === 'warning'));
      const official = officialVerdict(document);
      if (official !== undefined) {
        expect(
          ours.valid,
          `document ${i}: ${steps.join('; ')}\nours: ${JSON.stringify(ours.problems.filter((p) => p.severity === 'error'))}\nofficial: ${JSON.stringify(official.errors)}`,
        ).toBe(official.valid);
      }
      tally[ours.valid ? 'valid' : 'invalid']++;
    }
    // the mutations reach both sides of the rules
    expect(tally.valid).toBeGreaterThan(80);
    expect(tally.invalid).toBeGreaterThan(300);
  });
});
