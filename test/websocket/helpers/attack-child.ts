// Runs one attack of attacks.ts in a process of its own, so that the attacker's own work (masking
// megabytes of frames, opening hundreds of sockets) does not run on the legitimate client's event
// loop while bench/attacks.bench.ts times that client. Usage (through tsx):
//   attack-child.ts NAME '{"urls": [...], "mallory": "...", "ids": [...]}'
// It attacks until its stdin closes, then prints what it counted as one JSON line and exits.
import * as sy from '../../../src/index.js';
import { ATTACKS, type Target, crossIdentity } from './attacks.js';

const [name, json] = process.argv.slice(2);
const target = JSON.parse(json!) as Target & { ids?: number[] };
await sy.ready();
const attack = name === 'crossIdentity' ? crossIdentity(() => target.ids ?? []) : ATTACKS[name!];
if (!attack) throw new Error(`no attack named ${name}`);
const running = attack(target);
process.stdout.write('started\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  process.stdout.write(`${JSON.stringify(await running.stop())}\n`);
  process.exit(0);
});
