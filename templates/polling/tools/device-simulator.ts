// A stand-in for a real device while you develop: a thermostat with an HTTP API.
// Run it with `npm run simulator` (PORT=8080 by default), then `npm run dev` in another terminal.
import { createServer } from 'node:http';

const port = Number(process.env['PORT'] ?? 8080);
let desiredTemperature = 21;
let currentTemperature = 19;

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method !== 'GET' || url.pathname !== '/api/thermostat/status') {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `no ${request.method ?? ''} ${url.pathname} here` }));
    return;
  }
  // drift towards the desired temperature, with some noise
  currentTemperature += (desiredTemperature - currentTemperature) * 0.2 + (Math.random() - 0.5);
  if (Math.random() < 0.05) desiredTemperature = 18 + Math.round(Math.random() * 6);
  const status = {
    currentTemperature: Math.round(currentTemperature * 100) / 100,
    desiredTemperature,
    mode: currentTemperature < desiredTemperature ? 'heating' : 'cooling',
  };
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(status));
});

server.listen(port, () => {
  console.log(`thermostat simulator: GET http://127.0.0.1:${port}/api/thermostat/status`);
});
process.once('SIGINT', () => server.close());
process.once('SIGTERM', () => server.close());
