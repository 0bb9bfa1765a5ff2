// A stand-in for a real device while you develop: a thermostat with an HTTP API.
// Run it with `npm run simulator` (PORT=8080 by default), then `npm run dev` in another terminal.
import { createServer } from 'node:http';

const port = Number(process.env['PORT'] ?? 8080);
let desiredTemperature = 21;
let currentTemperature = 19;

function read(): { currentTemperature: number; desiredTemperature: number; mode: string } {
  // drift towards the desired temperature, with some noise
  currentTemperature += (desiredTemperature - currentTemperature) * 0.2 + (Math.random() - 0.5);
  if (Math.random() < 0.05) desiredTemperature = 18 + Math.round(Math.random() * 6);
  return {
    currentTemperature: Math.round(currentTemperature * 100) / 100,
    desiredTemperature,
    mode: currentTemperature < desiredTemperature ? 'heating' : 'cooling',
  };
}

const routes: Record<string, () => unknown> = {
  '/api/thermostat/status': read,
  '/api/thermostat/current': () => ({ currentTemperature: read().currentTemperature }),
  '/api/thermostat/desired': () => ({ desiredTemperature }),
};

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const route = request.method === 'GET' ? routes[url.pathname] : undefined;
  response.setHeader('content-type', 'application/json');
  if (route === undefined) {
    response.writeHead(404);
    response.end(JSON.stringify({ message: `no ${request.method ?? ''} ${url.pathname} here` }));
    return;
  }
  response.writeHead(200);
  response.end(JSON.stringify(route()));
});

server.listen(port, () => {
  for (const path of Object.keys(routes)) console.log(`GET http://127.0.0.1:${port}${path}`);
});
process.once('SIGINT', () => server.close());
process.once('SIGTERM', () => server.close());
