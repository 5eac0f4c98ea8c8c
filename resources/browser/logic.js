/*
 * Aria Tray extension: the decisions, with no browser API in sight.
 *
 * background.js wires these to the browser's events; popup.js shows them.
 * Keeping them pure lets tests/unit/test_extension_logic.py run them in
 * Node, and the e2e test run them for real in Chromium.
 */
"use strict";

const AriaTrayLogic = (() => {
  const HOST = "org.ariatray.host";
  const DEFAULTS = Object.freeze({ paused: false, minSizeMB: 0, fileTypes: "" });
  const SCHEMES = ["http:", "https:", "ftp:", "sftp:", "magnet:"];
  const MAX_HISTORY = 10;
  const URL_IN_TEXT = /\b(?:https?|ftp|sftp):\/\/[^\s<>"'`]+|\bmagnet:\?[^\s<>"'`]+/gi;

  /** Settings as stored, made safe: a number that is not one means "no minimum". */
  function normalizeSettings(raw) {
    const s = Object.assign({}, DEFAULTS, raw || {});
    const size = Number(s.minSizeMB);
    return {
      paused: s.paused === true,
      minSizeMB: Number.isFinite(size) && size > 0 ? size : 0,
      fileTypes: typeof s.fileTypes === "string" ? s.fileTypes : "",
    };
  }

  /** "zip, .ISO  7z" -> ["zip", "iso", "7z"]; empty means every type. */
  function parseTypes(text) {
    return String(text || "")
      .split(/[\s,;]+/)
      .map((t) => t.trim().replace(/^\*?\./, "").toLowerCase())
      .filter(Boolean);
  }

  function extensionOf(name) {
    const base = String(name || "").split(/[\\/]/).pop();
    const dot = base.lastIndexOf(".");
    return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  }

  function isDownloadable(url) {
    try {
      return SCHEMES.includes(new URL(url).protocol);
    } catch (e) {
      return false;
    }
  }

  /**
   * Take this browser download? Returns {intercept, why}.
   * `item` is a downloads.DownloadItem; `ownId` is our extension id: a
   * download we started ourselves (the fallback) is never taken again.
   */
  function shouldIntercept(item, settings, ownId) {
    const s = normalizeSettings(settings);
    const url = item.finalUrl || item.url || "";
    if (s.paused) return { intercept: false, why: "paused" };
    if (ownId && item.byExtensionId === ownId) return { intercept: false, why: "ours" };
    if (!isDownloadable(url)) return { intercept: false, why: "scheme" };
    const types = parseTypes(s.fileTypes);
    if (types.length && !types.includes(extensionOf(item.filename || url.split(/[?#]/)[0]))) {
      return { intercept: false, why: "type" };
    }
    if (s.minSizeMB > 0) {
      const size = item.totalBytes > 0 ? item.totalBytes : item.fileSize;
      // An unknown size cannot be above the minimum: the browser keeps it.
      if (!(size > 0) || size < s.minSizeMB * 1e6) return { intercept: false, why: "size" };
    }
    return { intercept: true, why: "" };
  }

  /** cookies.Cookie[] -> the Cookie header value a browser would send. */
  function cookieHeader(cookies) {
    return (cookies || []).map((c) => `${c.name}=${c.value}`).join("; ");
  }

  /** One download for the host; empty fields are left out. */
  function entryFor(fields) {
    const entry = { url: fields.url };
    for (const key of ["filename", "referrer", "cookies", "userAgent"]) {
      if (typeof fields[key] === "string" && fields[key]) entry[key] = fields[key];
    }
    return entry;
  }

  function downloadMessage(entries) {
    return { type: "download", downloads: entries };
  }

  /** The host's reply (or a missing one) -> {accepted, reason}. */
  function describeReply(reply) {
    if (reply && reply.status === "accepted") return { accepted: true, reason: "" };
    if (reply && reply.status === "refused") return { accepted: false, reason: String(reply.reason) };
    return { accepted: false, reason: "no answer from Aria Tray" };
  }

  /** Links in a context-menu click: the link, the media, links in the selected text. */
  function linksFromMenu(info, selectedLinks) {
    const found = [];
    if (info.linkUrl) found.push(info.linkUrl);
    if (info.srcUrl && info.mediaType) found.push(info.srcUrl);
    for (const url of selectedLinks || []) found.push(url);
    for (const url of linksInText(info.selectionText)) found.push(url);
    return unique(found.filter(isDownloadable));
  }

  function linksInText(text) {
    return (String(text || "").match(URL_IN_TEXT) || []).map((u) => u.replace(/[).,;:!?\]]+$/, ""));
  }

  function unique(list) {
    return Array.from(new Set(list));
  }

  /** The popup's list: newest first, at most MAX_HISTORY events. */
  function addEvent(history, event) {
    return [event].concat(history || []).slice(0, MAX_HISTORY);
  }

  return {
    HOST,
    DEFAULTS,
    MAX_HISTORY,
    normalizeSettings,
    parseTypes,
    extensionOf,
    isDownloadable,
    shouldIntercept,
    cookieHeader,
    entryFor,
    downloadMessage,
    describeReply,
    linksFromMenu,
    linksInText,
    addEvent,
  };
})();

if (typeof module !== "undefined" && module.exports) module.exports = AriaTrayLogic;
