// A port nothing listens on (connection refused), to stand for a machine without network.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
