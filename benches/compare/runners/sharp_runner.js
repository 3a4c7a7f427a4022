// sharp runner for the 3-rendition job: PHOTO OUT_DIR ITERATIONS.
// Prints `iter <wall_ms> <cpu_ms>` per iteration (same protocol as rendition-runner).
// Decode + auto-orient + resize to 2048 once (shrink-on-load), keep it as raw
// pixels, then encode 2048 and resize 1024/256 from it. Quality 85, 4:2:0,
// metadata stripped (sharp's default). Run with UV_THREADPOOL_SIZE=1.
'use strict';
const path = require('path');
const sharp = require('sharp');

const SIZES = [2048, 1024, 256];
const JPEG = { quality: 85, chromaSubsampling: '4:2:0' };
const fit = (size) => ({ width: size, height: size, fit: 'inside', withoutEnlargement: true });

async function job(photo, outDir) {
  const { data, info } = await sharp(photo).rotate().resize(fit(SIZES[0]))
    .raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  for (const size of SIZES) {
    let img = sharp(data, raw);
    if (size !== SIZES[0]) img = img.resize(fit(size));
    await img.jpeg(JPEG).toFile(path.join(outDir, `${size}.jpg`));
  }
}

async function main() {
  const [photo, outDir, iterations] = process.argv.slice(2);
  sharp.concurrency(1);
  sharp.cache(false);
  for (let i = 0; i < Number(iterations); i++) {
    const wall = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await job(photo, outDir);
    const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
    const used = process.cpuUsage(cpu);
    console.log(`iter ${wallMs.toFixed(3)} ${((used.user + used.system) / 1e3).toFixed(3)}`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
