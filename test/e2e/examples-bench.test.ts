// The `angel bench` example of angel's help (test/helpers/examples.ts), run as written: its table, and its
// export with no failed probe.
import { eachExample } from '../helpers/examples.js';

eachExample('the benchmark example, run as written', ['benches']);
