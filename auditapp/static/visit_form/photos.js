/* Photos (and the receipt): kept on the phone, uploaded one by one, each retried on
   its own. The file never goes with the form: the reference (evidence id) does, as a
   hidden field named like the question. */
import { list } from "./fields.js";
import { post, signedOut } from "./net.js";
import { uuid } from "./storage.js";
import { say } from "./words.js";

function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

/** ``changed`` and ``sync`` are called when a photo is added, removed or uploaded. */
export function createPhotos({ form, visit, db, changed, sync }) {
  // A photo question's input is named q_<question key>; the receipt's is "receipt".
  const inputs = [...form.querySelectorAll("input[type=file][name^='q_'], input[type=file][name='receipt']")];
  const boxes = {}; // field → list element
  const server = {}; // field → evidence ids known only from the draft (no local file)
  const previews = new Map(); // file id → object URL
  let records = [];

  for (const input of inputs) {
    input.dataset.field = input.name;
    input.removeAttribute("name");
    const box = document.createElement("ul");
    box.className = "vf-photos";
    input.after(box);
    boxes[input.dataset.field] = box;
    input.addEventListener("change", () => choose(input));
  }

  async function choose(input) {
    const field = input.dataset.field;
    const chosen = [...input.files];
    if (!chosen.length) return;
    for (const file of chosen) {
      const record = {
        id: uuid(), visit, field, question: field.startsWith("q_") ? field.slice(2) : "",
        name: file.name || "photo.jpg",
        blob: file, status: "pending", attempts: 0, next: 0, created: Date.now(),
      };
      await db.put("files", record);
      records.push(record);
    }
    input.value = "";
    render(field);
    changed();
    sync();
  }

  async function forget(record) {
    records = records.filter((r) => r !== record);
    URL.revokeObjectURL(previews.get(record.id));
    previews.delete(record.id);
    await db.del("files", record.id);
  }

  function render(field) {
    const box = boxes[field];
    box.textContent = "";
    const own = records.filter((r) => r.field === field).sort((a, b) => a.created - b.created);
    // Uploaded photos stay: the server answers a photo question with every file
    // uploaded for it. Only a photo not yet sent can be taken back.
    for (const id of server[field] || []) box.append(item(field, id, null, say("photo_saved", { id }), "done"));
    for (const r of own) {
      if (!previews.has(r.id)) previews.set(r.id, URL.createObjectURL(r.blob));
      const state = r.status === "failed" ? say("photo_failed", { error: r.error || "" })
        : say("photo_" + (r.status === "done" ? "done" : r.busy ? "uploading" : "waiting"));
      const li = item(field, r.status === "done" ? r.evidenceId : null, previews.get(r.id), state, r.status,
        r.status === "done" ? null : async () => { await forget(r); render(field); changed(); });
      li.dataset.uploadId = r.id;
      if (r.status === "failed") {
        li.append(button(say("retry"), "vf-photo-retry", async () => {
          Object.assign(r, { status: "pending", attempts: 0, next: 0, error: "" });
          await db.put("files", r);
          render(field);
          sync();
        }));
      }
      box.append(li);
    }
    // The page's own "N photos uploaded" line says less than the list: hide it then.
    const line = form.querySelector(`[data-uploaded-for="${field.startsWith("q_") ? field.slice(2) : field}"]`);
    if (line) line.hidden = box.children.length > 0;
  }

  function item(field, ref, src, text, status, onRemove) {
    const li = document.createElement("li");
    li.className = "vf-photo";
    li.dataset.status = status;
    if (src) {
      const img = document.createElement("img");
      img.src = src;
      img.alt = "";
      img.width = 96; // an attribute, not a style (CSP); the height follows the photo
      li.append(img);
    }
    const note = document.createElement("span");
    note.className = "vf-photo-status";
    note.textContent = text;
    li.append(note);
    if (onRemove) li.append(button(say("remove"), "vf-photo-remove", onRemove));
    if (ref) {
      // The answer: a hidden field named like the question, holding the evidence id.
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = field;
      hidden.value = ref;
      hidden.dataset.photoRef = "";
      li.append(hidden);
    }
    return li;
  }

  async function upload(record) {
    const body = new FormData();
    body.append("file", record.blob, record.name);
    body.append("client_upload_id", record.id);
    body.append("kind", record.question ? "photo" : "receipt");
    if (record.question) body.append("question_key", record.question);
    record.busy = true;
    render(record.field);
    let response;
    try {
      response = await post(form, form.dataset.uploadUrl, body);
    } catch (e) {
      response = null; // no network
    }
    record.busy = false;
    if (response && response.ok && !signedOut(response)) {
      const answer = await response.json();
      Object.assign(record, { status: "done", evidenceId: String(answer.id), sha256: answer.sha256 });
    } else if (response && response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status)) {
      const answer = await response.json().catch(() => ({}));
      Object.assign(record, { status: "failed", error: answer.error || response.statusText });
    } else {
      // Offline, a server error or a lost session: wait longer each time, up to a minute.
      record.attempts += 1;
      record.next = Date.now() + Math.min(60000, 1000 * 2 ** record.attempts);
    }
    await db.put("files", Object.assign({}, record, { busy: undefined }));
    render(record.field);
    if (record.status === "done") changed();
    return record.status !== "pending";
  }

  return {
    async load() {
      records = (await db.files()) || [];
    },
    restore(data) {
      for (const field of Object.keys(boxes)) {
        const mine = new Set(records.filter((r) => r.field === field && r.evidenceId).map((r) => r.evidenceId));
        server[field] = list(data[field]).filter((id) => id && !mine.has(id));
        render(field);
      }
    },
    count: (field) => (server[field] || []).length + records.filter((r) => r.field === field && r.status !== "failed").length,
    waiting: () => records.filter((r) => r.status === "pending").length,
    fields: () => Object.keys(boxes),
    done: (field) => records.filter((r) => r.field === field && r.status === "done").map((r) => r.evidenceId),
    async flush(force) {
      for (const record of records.filter((r) => r.status === "pending")) {
        if (!force && record.next > Date.now()) continue;
        if (!(await upload(record)) && !navigator.onLine) break;
      }
    },
    retryNow() { records.forEach((r) => { r.next = 0; }); },
    async clear() {
      for (const record of [...records]) await forget(record);
    },
  };
}
