/** Options of {@link readLines}. */
export interface ReadLinesOptions {
  /** The longest line accepted, in bytes; a longer one throws. Default: 1 MiB. */
  readonly maxLineBytes?: number;
}

const newline = 0x0a;
const carriageReturn = 0x0d;

/**
 * Splits a byte stream (a socket) into lines: yields each line without its `\n` (or `\r\n`),
 * skips empty lines, and yields a last line that has no newline when the stream ends. A line
 * longer than `maxLineBytes` throws, so a device that never sends a newline cannot fill the memory.
 */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  options: ReadLinesOptions = {},
): AsyncGenerator<Buffer> {
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (last: Uint8Array): Buffer | undefined => {
    let line = Buffer.concat([...pending, last]);
    pending = [];
    pendingBytes = 0;
    if (line.at(-1) === carriageReturn) line = line.subarray(0, -1);
    return line.length > 0 ? line : undefined;
  };
  for await (const chunk of source) {
    let start = 0;
    for (let end = chunk.indexOf(newline); end !== -1; end = chunk.indexOf(newline, start)) {
      if (pendingBytes + end - start > maxLineBytes) throw tooLong(maxLineBytes);
      const line = take(chunk.subarray(start, end));
      if (line !== undefined) yield line;
      start = end + 1;
    }
    if (start < chunk.length) {
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong(maxLineBytes);
    }
  }
  const last = take(new Uint8Array(0));
  if (last !== undefined) yield last;
}

function tooLong(maxLineBytes: number): Error {
  return new Error(
    `a line is longer than ${maxLineBytes} bytes: does the device end its messages with a newline?`,
  );
}
