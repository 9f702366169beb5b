/* The phone's outbox: every report, kept in IndexedDB from the moment "send" is tapped
 * until the server has answered it, and mirrored in memory for drawing. A report is
 * "queued" until acked ("sent") or refused ("refused"); nothing here talks to the server.
 */

const DB_NAME = "votewire-report";
const STORE = "outbox";

export class Outbox {
  constructor() {
    this.records = new Map(); // id -> record, mirrored from IndexedDB
    this.dbPromise = null;
  }

  /** Oldest first; ties by id, so the order is the same on every reload. */
  static byCreated(a, b) {
    return a.created - b.created || (a.id < b.id ? -1 : 1);
  }

  db() {
    if (!this.dbPromise) {
      this.dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return this.dbPromise;
  }

  async tx(mode, work) {
    const handle = await this.db();
    return new Promise((resolve, reject) => {
      const transaction = handle.transaction(STORE, mode);
      const result = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && result.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  /** Written to IndexedDB first, then kept in memory: on the phone before on the wire. */
  async save(record) {
    await this.tx("readwrite", (store) => store.put(record));
    this.records.set(record.id, record);
  }

  async load() {
    const all = await this.tx("readonly", (store) => store.getAll());
    for (const record of all || []) this.records.set(record.id, record);
  }

  /** Forget what the server has answered (sent or refused); queued reports stay. */
  async clearSent() {
    const done = [...this.records.values()].filter((r) => r.state !== "queued");
    await this.tx("readwrite", (store) => done.forEach((r) => store.delete(r.id)));
    done.forEach((r) => this.records.delete(r.id));
  }

  get(id) {
    return this.records.get(id);
  }

  values() {
    return this.records.values();
  }

  get size() {
    return this.records.size;
  }

  /** The reports still waiting for an answer, oldest first (the order they are sent in). */
  queued() {
    return [...this.records.values()].filter((r) => r.state === "queued").sort(Outbox.byCreated);
  }
}
