// The examples of the README and of angel's help that serve (test/helpers/examples.ts), run as written: each
// answers at / over IPv4 and IPv6, and ends with the status its stop signal gives.
import { eachExample } from '../helpers/examples.js';

eachExample('each example that serves, run as written', ['serves']);
