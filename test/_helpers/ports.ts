/**
 * Free TCP ports on 127.0.0.1 for the servers the tests start (slapd, `openssl ocsp`). Every port of one call is
 * held open until all are chosen, so they differ from each other; between their release and the server's bind
 * another process may still take one, so the callers check that their server started and retry.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

/** `n` distinct free ports of 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
  }
}
