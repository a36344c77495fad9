// A TCP proxy in front of a real server that can be frozen: while frozen it accepts connections and
// forwards nothing either way, as a server that hangs (or a network that drops packets) looks to a client.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface FreezableProxy {
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function freezableProxy(targetHost: string, targetPort: number): Promise<FreezableProxy> {
  let frozen = false;
  /** Bytes that arrived while frozen, per destination socket, delivered on thaw. */
  const held = new Map<Socket, Buffer[]>();
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (!frozen) to.write(chunk);
      else held.set(to, [...(held.get(to) ?? []), chunk]);
    });
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      for (const s of [client, upstream]) {
        sockets.delete(s);
        held.delete(s);
        s.destroy();
      }
    };
    for (const s of [client, upstream]) sockets.add(s.on('error', end).on('close', end));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const [to, chunks] of held) for (const chunk of chunks) to.write(chunk);
      held.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
