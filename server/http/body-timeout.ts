// A request body that stops arriving ends the request: with no byte for `idleMs` the client gets
// 408 and the connection is closed, so whatever was receiving the body (an upload) cleans up as for
// any interrupted request. Without it a body trickled at a byte a minute holds a socket and an
// upload slot until REQUEST_TIMEOUT_MS (15 minutes). It uses the socket's own idle timer: a 'data'
// listener on the request would start the body flowing before its reader is attached.
import type { RequestHandler } from 'express';
import type { Server } from 'node:net';

export function bodyIdleTimeout(idleMs: number): RequestHandler {
  return (req, res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || idleMs <= 0) return next();
    const socket = req.socket;
    // Back to the server's own idle timeout once the body is in (a slow download is not a slow body).
    const serverTimeout = (socket as { server?: Server & { timeout?: number } }).server?.timeout ?? 0;
    const onIdle = () => {
      if (req.complete || res.headersSent) return;
      res.setHeader('Connection', 'close');
      res.status(408).json({
        error: { code: 'request_timeout', message: `no part of the request body arrived for ${idleMs} ms` },
      });
      // Once the answer is out the server detaches the request from its socket, so the request itself
      // is destroyed: whatever reads the body hears 'close' and cleans up, then the socket goes.
      res.once('finish', () => {
        req.destroy();
        socket.destroy();
      });
    };
    // On the request, not the socket: the server destroys a timed-out socket at once unless the
    // request (or response, or server) listens for 'timeout'.
    req.setTimeout(idleMs, onIdle);
    req.once('end', () => {
      req.off('timeout', onIdle);
      socket.setTimeout(serverTimeout);
    });
    next();
  };
}
