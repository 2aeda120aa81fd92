// Runs before every test file: the library's start-up (tfjs backend, ring engine).
import { ready } from '../src/index.js';

await ready();
