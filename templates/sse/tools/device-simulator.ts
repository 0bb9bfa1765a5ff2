// A stand-in for a real device while you develop: a thermostat that streams its status as
// Server-Sent Events (event name "status", one JSON document each, every 2 seconds).
// Run it with `npm run simulator` (PORT=8082 by default), then `npm run dev` in another terminal.
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.env['PORT'] ?? 8082);
const streams = new Set<ServerResponse>();
let id = 0;
let desiredTemperature = 21;
let currentTemperature = 19;

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method !== 'GET' || url.pathname !== '/events') {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `no ${request.method ?? ''} ${url.pathname} here` }));
    return;
  }
  const lastEventId = request.headers['last-event-id'];
  if (lastEventId !== undefined) console.log(`a client resumes after event ${String(lastEventId)}`);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write('retry: 2000\n\n');
  streams.add(response);
  response.on('close', () => streams.delete(response));
});

const tick = setInterval(() => {
  currentTemperature += (desiredTemperature - currentTemperature) * 0.2 + (Math.random() - 0.5);
  if (Math.random() < 0.05) desiredTemperature = 18 + Math.round(Math.random() * 6);
  id += 1;
  const data = JSON.stringify({
    currentTemperature: Math.round(currentTemperature * 100) / 100,
    desiredTemperature,
  });
  for (const stream of streams) stream.write(`id: ${id}\nevent: status\ndata: ${data}\n\n`);
}, 2_000);
// a comment line now and then tells the connector the stream is alive while no event is due
const heartbeat = setInterval(() => {
  for (const stream of streams) stream.write(': heartbeat\n\n');
}, 15_000);

server.listen(port, () => {
  console.log(`thermostat simulator: GET http://127.0.0.1:${port}/events (text/event-stream)`);
});
const stop = () => {
  clearInterval(tick);
  clearInterval(heartbeat);
  for (const stream of streams) stream.end();
  server.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
