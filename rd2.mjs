import { openSync, readSync, fstatSync } from 'node:fs';
const b = Buffer.alloc(16384);
const pid = process.argv[2];
const files = [`/proc/${pid}/status`, `/proc/${pid}/statm`, `/proc/${pid}/stat`, `/proc/${pid}/task/${pid}/children`, `/proc/${pid}/smaps_rollup`];
for (let k = 0; k < 3; k++) for (const f of files) {
  const fd = openSync(f, 'r');
  const t = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) readSync(fd, b, 0, b.length, 0);
  console.log(f, (Number(process.hrtime.bigint() - t) / 2000 / 1000).toFixed(2), 'us');
}
const fd = openSync(`/proc/${pid}/task`, 'r');
let t = process.hrtime.bigint();
for (let i = 0; i < 2000; i++) fstatSync(fd);
console.log('fstat task', (Number(process.hrtime.bigint() - t) / 2000 / 1000).toFixed(2), 'us', fstatSync(fd).nlink);
