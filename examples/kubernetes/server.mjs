// The example image's server (Dockerfile): it takes its socket from fd 3 (angel's --listen), says it is ready
// on $ANGEL_READY_FD (--ready fd), and drains on SIGTERM, so a reload or a pod's termination loses no request.
import { writeSync } from 'node:fs';
import { createServer } from 'node:http';

let stopping = false;
const server = createServer((request, response) => {
  // once stopping, each answer closes its connection: a keep-alive client's next request goes to the successor
  if (stopping) response.setHeader('connection', 'close');
  response.end('hello\n');
});

server.listen({ fd: 3 }, () => {
  if (process.env.ANGEL_READY_FD) writeSync(Number(process.env.ANGEL_READY_FD), 'ready\n');
});

// the drain: stop accepting, answer what was accepted, then exit
process.on('SIGTERM', () => {
  stopping = true;
  server.close(() => process.exit(0));
});
