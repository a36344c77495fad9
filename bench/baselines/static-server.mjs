// express.static serving a folder, as the baseline for bench/files.ts, in its own process with the
// same V8 flags as booking-core (the load generator must not share its event loop).
// Usage: node static-server.mjs DIR   (prints the port it listens on)
import express from 'express';

const app = express();
app.use(express.static(process.argv[2]));
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
