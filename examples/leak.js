// A program with a memory leak: it keeps 16 MiB more every 50 ms and prints how much it holds.
// Under `angel --max-mem 100M` it is stopped when its RSS passes 100 MiB and started afresh.
const held = [];
setInterval(() => {
  held.push(Buffer.alloc(16 * 2 ** 20, 1));
  process.stdout.write(`generation ${process.env.ANGEL_GENERATION ?? '-'}: holding ${held.length * 16} MiB\n`);
}, 50);
process.on('SIGTERM', () => {
  process.stdout.write(`generation ${process.env.ANGEL_GENERATION ?? '-'}: SIGTERM, exiting\n`);
  process.exit(143);
});
