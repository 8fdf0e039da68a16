// Starts the staff app. A file of its own rather than an inline script, so that the page runs under a
// Content-Security-Policy that allows scripts from the centre only.
// The service worker keeps the app's files, so that it opens with no network at all.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("no offline start:", e));
}
import init from "./pkg/jing-xiaoer.js";
init();
