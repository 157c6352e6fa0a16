// Serves the built page (site/app) and passes /api, /healthz and /metrics to a
// hub, so the page under test is this build and talks to its own origin.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

export function startServer({ root, hub, port = 0 }) {
  const hubUrl = new URL(hub);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (/^\/(api|healthz|readyz|metrics)(\/|$)/.test(url.pathname)) {
      const up = http.request(
        { host: hubUrl.hostname, port: hubUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: hubUrl.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"status":"error","message":"hub unreachable"}');
      });
      req.pipe(up);
      res.on('close', () => up.destroy());
      return;
    }
    let file = path.join(root, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    if (url.pathname === '/' || !path.extname(file)) file = path.join(root, 'index.html');
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
