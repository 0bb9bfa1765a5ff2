/**
 * Every ```ts code block of the READMEs compiles against the SDK sources, so the documentation
 * cannot rot. A block can opt out with ```ts nocompile (for fragments that are not programs).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

function readmes(): string[] {
  const files = [join(root, 'README.md')];
  for (const dir of ['packages', 'examples']) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir))) {
      const file = join(root, dir, name, 'README.md');
      if (existsSync(file)) files.push(file);
    }
  }
  return files;
}

interface Snippet {
  readonly readme: string;
  readonly line: number;
  readonly code: string;
}

function snippets(): Snippet[] {
  const out: Snippet[] = [];
  for (const readme of readmes()) {
    const lines = readFileSync(readme, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const fence = /^```(ts|typescript)(\s+nocompile)?\s*$/.exec(lines[i] ?? '');
      if (!fence) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !(lines[end] ?? '').startsWith('```')) end++;
      if (!fence[2])
        out.push({
          readme: relative(root, readme),
          line: start + 1,
          code: lines.slice(start, end).join('\n'),
        });
      i = end;
    }
  }
  return out;
}

describe('README code blocks', () => {
  it('compile against the SDK', { timeout: 180_000 }, () => {
    const blocks = snippets();
    expect(blocks.length).toBeGreaterThan(0);
    const dir = join(root, '.tmp', `readme-snippets-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const files = blocks.map((block, index) => {
        const file = join(dir, `snippet-${index}.ts`);
        // every block is its own module (top-level await, no name clashes)
        writeFileSync(file, `${block.code}\nexport {};\n`);
        return file;
      });
      const config = ts.getParsedCommandLineOfConfigFile(
        join(root, 'tsconfig.check.json'),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
            throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
          },
        },
      );
      if (!config) throw new Error('tsconfig.check.json could not be read');
      const program = ts.createProgram(files, { ...config.options, noEmit: true });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
        .map((d) => {
          const index = files.indexOf(d.file!.fileName);
          const block = blocks[index]!;
          const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
          return `${block.readme}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
        });
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
