// The data owner's page (index.html): reads a CSV picked from disk, shows a preview, joins a
// coordinator as a party (OutboundWorker) and publishes the rows as `#data` for the model owner to
// compute on and train on by pointer, and plots the training loss live. The rows never leave; the
// table shows every byte sent, and to whom.
import * as sy from 'syft-ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const query = new URLSearchParams(location.search);
for (const k of ['coordinator', 'id', 'token']) $<HTMLInputElement>(k).value = query.get(k) ?? '';

let rows: number[][] | undefined;
let worker: sy.OutboundWorker | undefined;

/** Numbers from CSV text: one row per line, a first line that is not numeric is taken as a header. */
function parseCsv(text: string): { header: string[] | undefined; rows: number[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const cells = lines.map((l) => l.split(',').map((c) => c.trim()));
  const numeric = (r: string[]) => r.every((c) => c !== '' && Number.isFinite(Number(c)));
  const header = cells.length > 0 && !numeric(cells[0]!) ? cells.shift() : undefined;
  const bad = cells.findIndex((r) => !numeric(r) || r.length !== cells[0]!.length);
  if (bad >= 0) throw new Error(`line ${bad + (header ? 2 : 1)} is not a row of ${cells[0]!.length} numbers`);
  return { header, rows: cells.map((r) => r.map(Number)) };
}

function showPreview(header: string[] | undefined, data: number[][]): void {
  const head = (header ?? data[0]!.map((_, i) => `column ${i + 1}`)).map((h) => `<th>${h.replace(/[<&]/g, '')}</th>`).join('');
  const body = data.slice(0, 5).map((r) => `<tr>${r.map((v) => `<td>${v}</td>`).join('')}</tr>`).join('');
  $('preview').innerHTML = `${data.length} rows, ${data[0]!.length} columns (first 5 shown)<table><tr>${head}</tr>${body}</table>`;
}

$<HTMLInputElement>('file').addEventListener('change', async (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    const parsed = parseCsv(await file.text());
    rows = parsed.rows;
    showPreview(parsed.header, rows);
    $<HTMLButtonElement>('join').disabled = worker !== undefined;
  } catch (e) {
    $('preview').textContent = `Cannot use this file: ${(e as Error).message}`;
  }
});

$('join').addEventListener('click', async () => {
  if (!rows || worker) return;
  $<HTMLButtonElement>('join').disabled = true;
  $('status').textContent = 'Joining…';
  try {
    await sy.ready({ wasmPaths: '/wasm/' });
    const token = $<HTMLInputElement>('token').value;
    worker = await sy.OutboundWorker.join($<HTMLInputElement>('coordinator').value, {
      id: $<HTMLInputElement>('id').value,
      ...(token ? { token } : {}),
    });
    worker.publish('#data', sy.tensor(rows));
    $('status').textContent = `Joined as '${worker.id}'. Your rows are published as #data.`;
  } catch (e) {
    $('status').textContent = `Could not join: ${(e as Error).message}`;
    $<HTMLButtonElement>('join').disabled = false;
  }
});

// The live loss curve: the model owner's losses, from the site's /progress (they are aggregates
// it computed from this page's answers; the rows themselves never left).
async function drawLoss(): Promise<void> {
  const res = await fetch('/progress', { cache: 'no-store' });
  const points = (await res.json()) as { step: number; loss: number }[];
  if (points.length === 0) return;
  const [w, h, pad] = [640, 160, 8];
  const max = Math.max(...points.map((p) => p.loss));
  const last = points.length > 1 ? points.length - 1 : 1;
  const xy = points.map((p, i) => `${(pad + (i / last) * (w - 2 * pad)).toFixed(1)},${(h - pad - (max > 0 ? p.loss / max : 0) * (h - 2 * pad)).toFixed(1)}`);
  $('loss-line').setAttribute('points', xy.join(' '));
  const end = points.at(-1)!;
  $('loss-text').textContent = `step ${end.step}: loss ${end.loss.toFixed(4)} (from ${points[0]!.loss.toFixed(4)})`;
}
setInterval(() => void drawLoss().catch(() => {}), 300);

// The counter: what this page's connections carried out (syft messages and acknowledgements).
setInterval(() => {
  if (!worker) return;
  const t = worker.traffic();
  const set = (id: string, v: number) => ($(id).textContent = v.toLocaleString('en'));
  set('client-msgs', t.clients.messagesSent);
  set('client-bytes', t.clients.bytesSent);
  set('link-msgs', t.links.messagesSent);
  set('link-bytes', t.links.bytesSent);
  set('peer-msgs', t.peers.messagesSent);
  set('peer-bytes', t.peers.bytesSent);
  $('held').textContent = `Objects held here: ${worker.objectCount}`;
}, 200);
