// A stand-in for a real device while you develop: a thermostat that sends its status over TCP,
// one JSON document per line, every 2 seconds, to every client connected.
// Run it with `npm run simulator` (PORT=8081 by default), then `npm run dev` in another terminal.
import { createServer, type Socket } from 'node:net';

const port = Number(process.env['PORT'] ?? 8081);
const clients = new Set<Socket>();
let desiredTemperature = 21;
let currentTemperature = 19;

const server = createServer((socket) => {
  clients.add(socket);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clients.delete(socket));
});

const timer = setInterval(() => {
  currentTemperature += (desiredTemperature - currentTemperature) * 0.2 + (Math.random() - 0.5);
  if (Math.random() < 0.05) desiredTemperature = 18 + Math.round(Math.random() * 6);
  const line = `${JSON.stringify({
    currentTemperature: Math.round(currentTemperature * 100) / 100,
    desiredTemperature,
    time: new Date().toISOString(),
  })}\n`;
  for (const client of clients) client.write(line);
}, 2_000);

server.listen(port, () => {
  console.log(`thermostat simulator: tcp://127.0.0.1:${port}, one JSON line every 2 s`);
});
const stop = () => {
  clearInterval(timer);
  for (const client of clients) client.destroy();
  server.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
