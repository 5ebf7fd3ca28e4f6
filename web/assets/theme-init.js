// Runs in <head>, before the stylesheet paints: sets the saved or preferred theme, so a page
// never flashes in the wrong one. An external file because the CSP forbids inline script.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("vfetch-theme"); } catch (e) { /* storage off: follow the system */ }
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
