import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readLines } from '../src/line-reader.ts';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

async function collect(source: AsyncIterable<Buffer>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of source) lines.push(line.toString('utf8'));
  return lines;
}

describe('readLines', () => {
  it('splits on newlines, across chunk boundaries, and drops \\r and empty lines', async () => {
    const lines = await collect(readLines(chunks('{"a":1}\n{"b"', ':2}\r\n\n{"c":', '3}\n')));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('yields a last line without a newline when the stream ends', async () => {
    expect(await collect(readLines(chunks('one\ntw', 'o')))).toEqual(['one', 'two']);
  });

  it('throws on a line longer than maxLineBytes', async () => {
    const source = readLines(chunks('short\n', 'x'.repeat(8), 'x'.repeat(8)), { maxLineBytes: 10 });
    await expect(collect(source)).rejects.toThrow(/longer than 10 bytes/);
  });

  it('reads the lines a TCP device sends', async () => {
    const server = createServer((socket: Socket) => {
      socket.write('{"currentTemperature":21.5}\n{"currentTem');
      setImmediate(() => socket.end('perature":21.7}\n'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port });
    onTestFinished(() => {
      socket.destroy();
    });
    const lines = (await collect(readLines(socket))).map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([{ currentTemperature: 21.5 }, { currentTemperature: 21.7 }]);
  });
});
