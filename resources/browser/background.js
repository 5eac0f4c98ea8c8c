/*
 * Aria Tray extension: catch browser downloads and hand them to Aria Tray.
 *
 * Chromium: downloads.onDeterminingFilename. The browser keeps fetching into
 * its temporary file while we ask Aria Tray, so when Aria Tray accepts we
 * cancel the browser's download, and when it cannot (not installed, refused,
 * an error) we let the browser finish it: nothing is lost either way.
 * Firefox (no onDeterminingFilename): downloads.onCreated, same outcome.
 *
 * Every outcome goes into storage ("history") for the popup to show.
 */
"use strict";

if (typeof AriaTrayLogic === "undefined") importScripts("logic.js"); // Chromium's worker

const api = globalThis.browser || globalThis.chrome;
const L = AriaTrayLogic;
const MENU_ID = "aria-tray-download";

async function loadSettings() {
  return L.normalizeSettings(await api.storage.local.get(L.DEFAULTS));
}

async function cookiesFor(url) {
  try {
    return L.cookieHeader(await api.cookies.getAll({ url }));
  } catch (e) {
    return "";
  }
}

async function entryFor(url, filename, referrer) {
  return L.entryFor({
    url,
    filename,
    referrer,
    cookies: await cookiesFor(url),
    userAgent: navigator.userAgent,
  });
}

/** Ask the native host; any failure to reach it is a refusal with a reason. */
async function sendToHost(entries) {
  try {
    return L.describeReply(await api.runtime.sendNativeMessage(L.HOST, L.downloadMessage(entries)));
  } catch (e) {
    return { accepted: false, reason: String((e && e.message) || e) };
  }
}

async function record(event) {
  const { history } = await api.storage.local.get({ history: [] });
  await api.storage.local.set({ history: L.addEvent(history, { ...event, time: Date.now() }) });
}

function nameOf(url, filename) {
  return (filename || "").split(/[\\/]/).pop() || url;
}

async function takeOver(item) {
  const url = item.finalUrl || item.url;
  const outcome = await sendToHost([await entryFor(url, item.filename, item.referrer)]);
  const name = nameOf(url, item.filename);
  if (outcome.accepted) {
    try {
      await api.downloads.cancel(item.id);
      await api.downloads.erase({ id: item.id });
    } catch (e) {
      // Already finished or gone: Aria Tray has it anyway.
    }
    await record({ kind: "sent", name, url });
  } else {
    await record({ kind: "fallback", name, url, reason: outcome.reason });
  }
  return outcome;
}

async function onDetermining(item, suggest) {
  let outcome = { accepted: false };
  try {
    const decision = L.shouldIntercept(item, await loadSettings(), api.runtime.id);
    if (decision.intercept) outcome = await takeOver(item);
  } finally {
    if (!outcome.accepted) suggest(); // the browser goes on with its own download
  }
}

async function onCreated(item) {
  const decision = L.shouldIntercept(item, await loadSettings(), api.runtime.id);
  if (decision.intercept) await takeOver(item);
}

if (api.downloads.onDeterminingFilename) {
  api.downloads.onDeterminingFilename.addListener((item, suggest) => {
    onDetermining(item, suggest);
    return true; // suggest() is called asynchronously
  });
} else {
  api.downloads.onCreated.addListener(onCreated);
}

/** The text selection's links (hrefs), read from the page; empty where we may not. */
async function selectedLinks(tabId) {
  if (!api.scripting || tabId === undefined || tabId < 0) return [];
  try {
    const [result] = await api.scripting.executeScript({
      target: { tabId },
      func: () => {
        const selection = getSelection();
        const links = [];
        for (let i = 0; i < selection.rangeCount; i++) {
          const box = document.createElement("div");
          box.appendChild(selection.getRangeAt(i).cloneContents());
          for (const a of box.querySelectorAll("a[href]")) links.push(new URL(a.getAttribute("href"), document.baseURI).href);
        }
        return links;
      },
    });
    return (result && result.result) || [];
  } catch (e) {
    return [];
  }
}

/** "Download with Aria Tray": the link, the media or the selection's links. */
async function handleMenu(info, tab) {
  const extra = info.selectionText ? await selectedLinks(tab && tab.id) : [];
  const urls = L.linksFromMenu(info, extra);
  if (!urls.length) {
    await record({ kind: "nolinks", name: "", url: info.pageUrl || "" });
    return { accepted: false, reason: "no links" };
  }
  const referrer = info.pageUrl || (tab && tab.url) || "";
  const entries = await Promise.all(urls.map((url) => entryFor(url, "", referrer)));
  const outcome = await sendToHost(entries);
  if (outcome.accepted) {
    await record({ kind: "sent", name: urls.length === 1 ? urls[0] : `${urls.length} links`, url: urls[0] });
  } else {
    for (const url of urls) {
      try {
        await api.downloads.download({ url }); // the browser's own, never taken again (ours)
      } catch (e) {
        // magnet: and other links the browser cannot fetch itself
      }
    }
    await record({ kind: "fallback", name: urls[0], url: urls[0], reason: outcome.reason });
  }
  return outcome;
}

function createMenu() {
  api.contextMenus.removeAll(() => {
    api.contextMenus.create({
      id: MENU_ID,
      title: api.i18n.getMessage("menuDownload"),
      contexts: ["link", "selection", "image", "video", "audio"],
    });
  });
}

api.runtime.onInstalled.addListener(createMenu);
api.runtime.onStartup.addListener(createMenu);
api.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID) handleMenu(info, tab);
});

// For the popup's "is Aria Tray there?" line, and for tests driving the worker.
globalThis.ariaTray = { handleMenu, sendToHost, loadSettings };
