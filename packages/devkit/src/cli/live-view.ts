/**
 * What `aio-connector dev` shows while it runs. On a terminal: a live table, redrawn in place with
 * ANSI escapes, of every dataset and event (messages, rate, last payload, schema, status and
 * health) under the connectors and servers, with the latest warnings and errors. Otherwise (a pipe,
 * a file, CI): plain, timestamped log lines — sandbox events, connector output, the first message
 * of each dataset or event, changes of status, health and schema, and a periodic summary.
 *
 * @module
 */
import type { MonitoredElement, SandboxMonitor } from '../sandbox/sandbox-monitor.ts';
import type { Sandbox, SandboxEvent } from '../sandbox/sandbox.ts';
import {
  clock,
  condenseLogLine,
  duration,
  pad,
  palette,
  truncate,
  visibleLength,
  type Palette,
} from './format.ts';

/** Options of {@link LiveView}. */
export interface LiveViewOptions {
  readonly sandbox: Sandbox;
  readonly out: NodeJS.WriteStream;
  /** Redraw a table (a terminal) or write log lines. */
  readonly interactive: boolean;
  readonly colour: boolean;
  /** Plain mode: a summary of every dataset and event this often, in ms; 0 = never. Default: 10 000. */
  readonly summaryIntervalInMs?: number;
  /** Show every connector log line, not only warnings and errors (terminal mode). Default: false. */
  readonly verbose?: boolean;
}

interface Remembered {
  messages: number;
  error: string | undefined;
  health: string | undefined;
  schema: string | undefined;
}

const maxLogLines = 12;

function rate(value: number): string {
  if (value === 0) return '-';
  return value >= 10 ? `${Math.round(value)}/s` : `${value.toFixed(1)}/s`;
}

function schemaText(element: MonitoredElement): string | undefined {
  return element.schema === undefined
    ? undefined
    : `v${element.schema.version} ${element.schema.name.slice(0, 8)}`;
}

function healthText(element: MonitoredElement): string | undefined {
  if (element.health === undefined) return undefined;
  return element.health.message === undefined
    ? element.health.status
    : `${element.health.status} (${element.health.message})`;
}

/** The view of a running `aio-connector dev`. */
export class LiveView {
  readonly #sandbox: Sandbox;
  readonly #out: NodeJS.WriteStream;
  readonly #interactive: boolean;
  readonly #colours: Palette;
  readonly #summaryIntervalInMs: number;
  readonly #verbose: boolean;
  #monitor: SandboxMonitor | undefined;
  readonly #log: string[] = [];
  readonly #remembered = new Map<string, Remembered>();
  #timer: NodeJS.Timeout | undefined;
  #lastSummary = Date.now();
  #resources = '';
  #started = false;
  #stopped = false;
  readonly #onResize = (): void => {
    this.#draw();
  };

  constructor(options: LiveViewOptions) {
    this.#sandbox = options.sandbox;
    this.#out = options.out;
    this.#interactive = options.interactive;
    this.#colours = palette(options.colour);
    this.#summaryIntervalInMs = options.summaryIntervalInMs ?? 10_000;
    this.#verbose = options.verbose ?? false;
  }

  /** Starts redrawing (terminal) or checking for changes (plain). */
  start(monitor: SandboxMonitor | undefined): void {
    this.#monitor = monitor;
    if (this.#started) return;
    this.#started = true;
    if (this.#interactive) {
      this.#out.write('\u001b[?1049h\u001b[?25l'); // alternate screen, hide the cursor
      this.#out.on('resize', this.#onResize);
    }
    this.#timer = setInterval(
      () => {
        if (this.#interactive) this.#draw();
        else this.#checkChanges();
      },
      this.#interactive ? 500 : 1000,
    );
    this.#timer.unref();
    if (this.#interactive) this.#draw();
  }

  /** Stops redrawing and restores the terminal. Safe to call twice. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#interactive) {
      if (this.#started) {
        this.#out.off('resize', this.#onResize);
        this.#out.write('\u001b[?25h\u001b[?1049l'); // show the cursor, back to the normal screen
      }
      // what happened, once more, on the normal screen, and what flowed
      for (const line of this.#log) this.#out.write(`${line}\n`);
      for (const element of this.#monitor?.elements() ?? [])
        this.#out.write(
          `${this.#colours.dim(clock())} ${pad(this.#colours.cyan('data'), 10)} ${element.id} → ${element.destination}: ${element.messages} message${element.messages === 1 ? '' : 's'}${element.error === undefined ? '' : this.#colours.red(`, error: ${element.error}`)}\n`,
        );
    } else this.#checkChanges();
  }

  /** Writes a line of the sandbox (plain) or keeps it for the log pane (terminal). */
  note(text: string, level: 'info' | 'warn' | 'error' = 'info', source = 'sandbox'): void {
    const c = this.#colours;
    const time = clock();
    for (const part of text.split('\n')) {
      const coloured = level === 'error' ? c.red(part) : level === 'warn' ? c.yellow(part) : part;
      const line = `${c.dim(time)} ${pad(c.cyan(source), 10)} ${coloured}`;
      if (this.#interactive && !this.#stopped) {
        this.#log.push(line);
        if (this.#log.length > maxLogLines) this.#log.splice(0, this.#log.length - maxLogLines);
      } else this.#out.write(`${line}\n`);
    }
  }

  /** Handles an event of the sandbox. */
  handle(event: SandboxEvent): void {
    switch (event.type) {
      case 'broker':
        this.note(`broker ${event.url}${event.embedded ? ' (embedded)' : ''}`);
        return;
      case 'sample-server':
        this.note(`sample server ${event.name} (${event.kind}) at ${event.url}`);
        return;
      case 'resources': {
        const summary = `${event.devices} device${event.devices === 1 ? '' : 's'}, ${event.assets} asset${event.assets === 1 ? '' : 's'}`;
        this.#resources = `${summary}${event.initial ? '' : ` (reloaded ${clock().slice(0, 8)})`}`;
        if (event.initial) this.note(`loaded ${summary}`);
        else {
          const parts = [
            ...event.changes.added.map((c) => `added ${c.kind} "${c.name}"`),
            ...event.changes.changed.map((c) => `changed ${c.kind} "${c.name}"`),
            ...event.changes.removed.map((c) => `removed ${c.kind} "${c.name}"`),
          ];
          this.note(`reloaded ${summary}: ${parts.length === 0 ? 'no changes' : parts.join(', ')}`);
        }
        for (const warning of event.warnings) this.note(`warning: ${warning}`, 'warn');
        return;
      }
      case 'resources-error':
        this.note(
          `the resource files have errors; the previous definitions stay in use:\n${event.error.message}`,
          'error',
        );
        return;
      case 'connector': {
        const inner = event.event;
        if (inner.type === 'started')
          this.note(`connector ${inner.name} started (pid ${inner.pid})`);
        else if (inner.type === 'exited') {
          const how =
            inner.signal === null ? `with code ${inner.code ?? '?'}` : `on ${inner.signal}`;
          if (inner.expected) this.note(`connector ${inner.name} stopped ${how}`);
          else
            this.note(
              `connector ${inner.name} (pid ${inner.pid}) exited ${how}${inner.restartInMs === undefined ? '' : `; restarting in ${duration(inner.restartInMs)}`}`,
              'error',
            );
        } else if (inner.type === 'spawn-error')
          this.note(
            `connector ${inner.name} cannot start: ${inner.error.message}${inner.restartInMs === undefined ? '' : `; trying again in ${duration(inner.restartInMs)}`}`,
            'error',
          );
        else {
          const { level, text } = condenseLogLine(inner.line);
          const severity =
            level === 'error' || level === 'fatal'
              ? 'error'
              : level === 'warn'
                ? 'warn'
                : inner.stream === 'stderr' && level === undefined
                  ? 'warn'
                  : 'info';
          if (!this.#interactive || this.#verbose || severity !== 'info')
            this.note(text, severity, inner.name);
        }
        return;
      }
      case 'stopping':
        this.note('stopping');
        return;
      case 'stopped':
        this.note('stopped');
        return;
    }
  }

  #checkChanges(): void {
    const monitor = this.#monitor;
    if (monitor === undefined) return;
    const elements = monitor.elements();
    const now = Date.now();
    const summary =
      this.#summaryIntervalInMs > 0 && now - this.#lastSummary >= this.#summaryIntervalInMs;
    for (const element of elements) {
      const previous = this.#remembered.get(element.id);
      const current: Remembered = {
        messages: element.messages,
        error: element.error,
        health: healthText(element),
        schema: schemaText(element),
      };
      this.#remembered.set(element.id, current);
      const label = `${element.id} → ${element.destination}`;
      if ((previous?.messages ?? 0) === 0 && current.messages > 0)
        this.note(`${label}: first message ${element.lastPayload ?? ''}`, 'info', 'data');
      if (current.error !== previous?.error)
        this.note(
          current.error === undefined
            ? `${label}: error cleared`
            : `${label}: error: ${current.error}`,
          current.error === undefined ? 'info' : 'error',
          'status',
        );
      if (current.schema !== previous?.schema && current.schema !== undefined)
        this.note(`${label}: schema ${current.schema}`, 'info', 'status');
      if (current.health !== previous?.health && current.health !== undefined)
        this.note(
          `${label}: health ${current.health}`,
          element.health?.status === 'Available' ? 'info' : 'warn',
          'status',
        );
    }
    for (const id of [...this.#remembered.keys()])
      if (!elements.some((element) => element.id === id)) this.#remembered.delete(id);
    if (summary) {
      this.#lastSummary = now;
      for (const element of elements)
        this.note(
          `${element.id}: ${element.messages} message${element.messages === 1 ? '' : 's'}, ${rate(element.ratePerSecond)}${element.lastPayload === undefined ? '' : `, last ${truncate(element.lastPayload, 80)}`}`,
          'info',
          'data',
        );
    }
  }

  #draw(): void {
    if (!this.#interactive || this.#stopped) return;
    const c = this.#colours;
    const width = Math.max(60, this.#out.columns);
    const height = Math.max(15, this.#out.rows);
    const lines: string[] = [];
    const sandbox = this.#sandbox;
    lines.push(
      `${c.bold('aio-connector dev')}  ${sandbox.brokerUrl ?? ''}  ${c.dim(`${this.#resources}  Ctrl-C stops`)}`,
    );
    const connectors = sandbox.connectors.map((connector) => {
      const state =
        connector.state === 'running'
          ? connector.ready
            ? c.green('● ready')
            : c.yellow('● starting')
          : connector.state === 'backoff'
            ? c.red('● crashed, restarting')
            : c.dim(`● ${connector.state}`);
      const restarts = connector.restarts > 0 ? c.red(` ${connector.restarts} restarts`) : '';
      return `${c.bold(connector.name)} ${state}${connector.pid === undefined ? '' : c.dim(` pid ${connector.pid}`)}${restarts}`;
    });
    lines.push(`connectors: ${connectors.length === 0 ? c.dim('none') : connectors.join('   ')}`);
    if (sandbox.sampleServers.length > 0)
      lines.push(
        `servers: ${sandbox.sampleServers.map((s) => `${s.name} ${c.dim(s.url)}`).join('   ')}`,
      );
    lines.push('');
    const elements = this.#monitor?.elements() ?? [];
    const nameWidth = Math.min(
      40,
      Math.max(16, ...elements.map((e) => `${e.assetName}/${e.name}`.length)),
    );
    const destinationWidth = Math.min(
      44,
      Math.max(12, ...elements.map((e) => e.destination.length)),
    );
    const fixed = nameWidth + destinationWidth + 8 + 8 + 13 + 12 + 6 * 2;
    const payloadWidth = Math.max(10, width - fixed);
    const row = (cells: string[]): string =>
      [
        pad(cells[0] ?? '', nameWidth),
        pad(cells[1] ?? '', destinationWidth),
        (cells[2] ?? '').padStart(8),
        (cells[3] ?? '').padStart(8),
        pad(cells[4] ?? '', 13),
        pad(cells[5] ?? '', 12),
        cells[6] ?? '',
      ].join('  ');
    lines.push(
      c.dim(
        row(['DATASET / EVENT', 'DESTINATION', 'MSGS', 'RATE', 'SCHEMA', 'HEALTH', 'LAST PAYLOAD']),
      ),
    );
    if (elements.length === 0) lines.push(c.dim('  no datasets or events loaded'));
    for (const element of elements) {
      const health = element.health;
      const healthCell =
        health === undefined
          ? c.dim('-')
          : health.status === 'Available'
            ? c.green(health.status)
            : c.red(health.status);
      lines.push(
        row([
          truncate(`${element.assetName}/${element.name}`, nameWidth),
          truncate(element.destination, destinationWidth),
          element.messages === 0 ? c.dim('0') : String(element.messages),
          rate(element.ratePerSecond),
          truncate(schemaText(element) ?? '-', 13),
          healthCell,
          element.lastPayload === undefined
            ? c.dim('(no message yet)')
            : truncate(element.lastPayload, payloadWidth),
        ]),
      );
      if (element.error !== undefined)
        lines.push(`  ${c.red(`✖ ${truncate(element.error, width - 4)}`)}`);
    }
    lines.push('');
    lines.push(c.dim('recent warnings and events:'));
    const room = Math.max(2, height - lines.length - 1);
    for (const line of this.#log.slice(-room)) lines.push(truncateAnsi(line, width));
    const screen = lines
      .slice(0, height)
      .map((line) => `${line}\u001b[K`)
      .join('\n');
    this.#out.write(`\u001b[H${screen}\u001b[J`);
  }
}

/** Cuts a line with ANSI escapes to a visible width (escapes after the cut are dropped). */
function truncateAnsi(line: string, width: number): string {
  if (visibleLength(line) <= width) return line;
  let visible = 0;
  let out = '';
  // eslint-disable-next-line no-control-regex
  const parts = line.split(/(\u001b\[[0-9;?]*[A-Za-z])/);
  for (const part of parts) {
    if (part.startsWith('\u001b[')) {
      out += part;
      continue;
    }
    const room = width - 1 - visible;
    if (room <= 0) break;
    out += part.slice(0, room);
    visible += Math.min(part.length, room);
  }
  return `${out}…\u001b[0m`;
}
