/* What the phone keeps: IndexedDB (database "auditapp"), or localStorage and memory
   where IndexedDB is unavailable.

   Stores: "drafts" {visit, data, revision, dirty, base} (base: what the server has),
   "outbox" {visit, submissionId, data, queued}, "files" {id (= client_upload_id),
   visit, field, question, name, blob, status, attempts, next, evidenceId}. */

function open() {
  return new Promise((resolve) => {
    let request;
    try { request = indexedDB.open("auditapp", 1); } catch (e) { resolve(null); return; }
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("drafts", { keyPath: "visit" });
      db.createObjectStore("outbox", { keyPath: "visit" });
      db.createObjectStore("files", { keyPath: "id" }).createIndex("visit", "visit");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
}

/** The stores, for the rows of one visit: get, put, del, and files() of the visit. */
export function openStorage(visit) {
  const dbReady = open();
  const memory = new Map(); // files when IndexedDB is missing (blobs cannot go in localStorage)

  async function run(store, mode, work) {
    const db = await dbReady;
    if (!db) return fallback(store, mode, work);
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  function fallback(store, mode, work) {
    const key = "auditapp:" + store;
    const rows = store === "files" ? memory : new Map(JSON.parse(localStorage.getItem(key) || "[]"));
    const fake = {
      get: (id) => ({ result: rows.get(id) }),
      put: (row) => { rows.set(row.visit && store !== "files" ? row.visit : row.id, row); return {}; },
      delete: (id) => { rows.delete(id); return {}; },
      index: () => ({ getAll: (v) => ({ result: [...rows.values()].filter((r) => r.visit === v) }) }),
    };
    const result = work(fake).result;
    if (store !== "files" && mode === "readwrite") localStorage.setItem(key, JSON.stringify([...rows]));
    return Promise.resolve(result);
  }

  return {
    get: (store, key) => run(store, "readonly", (s) => s.get(key)),
    put: (store, row) => run(store, "readwrite", (s) => s.put(row)),
    del: (store, key) => run(store, "readwrite", (s) => s.delete(key)),
    files: () => run("files", "readonly", (s) => s.index("visit").getAll(visit)),
  };
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
