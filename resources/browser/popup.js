/* Aria Tray extension popup: settings, whether Aria Tray answers, what happened lately. */
"use strict";

const api = globalThis.browser || globalThis.chrome;
const L = AriaTrayLogic;
const t = (key, ...subs) => api.i18n.getMessage(key, subs) || key;

function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

async function showSettings() {
  const s = L.normalizeSettings(await api.storage.local.get(L.DEFAULTS));
  const paused = document.getElementById("paused");
  const minSize = document.getElementById("minSizeMB");
  const types = document.getElementById("fileTypes");
  paused.checked = s.paused;
  minSize.value = String(s.minSizeMB);
  types.value = s.fileTypes;
  paused.addEventListener("change", () => api.storage.local.set({ paused: paused.checked }));
  minSize.addEventListener("change", () => api.storage.local.set({ minSizeMB: Number(minSize.value) || 0 }));
  types.addEventListener("change", () => api.storage.local.set({ fileTypes: types.value }));
}

async function showHost() {
  const line = document.getElementById("host");
  let reply = null;
  try {
    reply = await api.runtime.sendNativeMessage(L.HOST, { type: "ping" });
  } catch (e) {
    reply = null;
  }
  const ok = reply && reply.status === "ok";
  line.textContent = ok ? t("hostOk", String(reply.version)) : t("hostMissing");
  line.className = `status ${ok ? "ok" : "bad"}`;
}

async function showHistory() {
  const { history } = await api.storage.local.get({ history: [] });
  const list = document.getElementById("history");
  list.replaceChildren();
  if (!history.length) {
    const li = document.createElement("li");
    li.textContent = t("recentEmpty");
    list.appendChild(li);
  }
  for (const event of history) {
    const li = document.createElement("li");
    li.className = event.kind;
    if (event.kind === "sent") li.textContent = t("eventSent", event.name);
    else if (event.kind === "nolinks") li.textContent = t("eventNoLinks");
    else {
      li.textContent = t("eventFallback", event.name);
      const why = document.createElement("span");
      why.className = "why";
      why.textContent = event.reason || "";
      li.appendChild(why);
    }
    list.appendChild(li);
  }
}

translatePage();
showSettings();
showHistory();
showHost();
