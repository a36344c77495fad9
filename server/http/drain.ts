// Graceful draining of an HTTP server's connections at shutdown. Node's closeIdleConnections() (which
// server.close() also calls) counts a connection idle once its response has called end(), even while
// the tail of that response is still being flushed to a slow client: sweeping with it cut downloads
// short in their last bytes. Here a connection is ended only after its responses have closed, and a
// keep-alive connection that is between requests is ended at once.
import { Server as NetServer, type Socket } from 'node:net';
import type { Server } from 'node:http';

export interface Drainer {
  /** Stops accepting connections, ends each as soon as it has no response in flight; resolves when all are gone. */
  drain(): Promise<void>;
}

export function connectionDrainer(server: Server): Drainer {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      // end(), not destroy(): what is still buffered goes out before the FIN.
      if (draining && left === 0) socket.end();
    });
  });
  return {
    drain() {
      draining = true;
      const closed = new Promise<void>((resolve) =>
        // The plain net.Server close: it stops listening and waits for the connections, without the
        // http layer's premature idle sweep.
        NetServer.prototype.close.call(server, () => resolve()),
      );
      for (const [socket, responses] of inFlight) if (responses === 0) socket.end();
      return closed;
    },
  };
}
