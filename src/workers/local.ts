/**
 * The local worker: "me" in PySyft's printouts. It owns the pointers user code creates and is
 * the sender of the commands they issue.
 */
import { VirtualWorker } from './virtual.js';

export const local = new VirtualWorker({ id: 'me', serialize: false });
