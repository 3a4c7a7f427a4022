#!/usr/bin/env node
// smartcrop.js (through its sharp adapter, smartcrop-sharp) on a list of jobs, one at a time.
// stdin: JSON [{"id": any, "file": "upright.jpg", "width": W, "height": H}, ...]
// stdout: one JSON line per job: {"id", "x", "y", "width", "height"} (smartcrop's topCrop, in the
// file's pixels) or {"id", "error"}. The files must already be upright (no EXIF orientation):
// smartcrop-sharp reads sharp's metadata size, which ignores EXIF orientation.
'use strict';
const smartcrop = require('smartcrop-sharp');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const jobs = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  for (const job of jobs) {
    try {
      const result = await smartcrop.crop(job.file, {
        width: job.width,
        height: job.height,
        minScale: 1.0,
      });
      const c = result.topCrop;
      process.stdout.write(JSON.stringify({ id: job.id, x: c.x, y: c.y, width: c.width, height: c.height }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ id: job.id, error: String(err && err.message || err) }) + '\n');
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
