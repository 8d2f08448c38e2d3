/*
 * policykb citizens' widget. Put one tag on any page:
 *
 *   <script src="https://HOST/widget.js" data-hotline="12345" defer></script>
 *
 * Optional data- attributes: data-hotline (the number offered when there is no answer),
 * data-title (the panel's heading), data-label (the button's text), data-position="left".
 *
 * This script only adds a button and, when it is pressed, an iframe with the conversation,
 * served from the service's own origin (the origin of this script's src). Both live in a
 * shadow root and carry their own important inline styles (set through the CSSOM, which a
 * host page's Content-Security-Policy allows), so the host page's CSS cannot reach them, and
 * nothing of the host page is read or sent anywhere.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || window.__policykbWidget) return;
  window.__policykbWidget = true;
  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var label = (data.label || "政策咨询").slice(0, 20);
  var side = data.position === "left" ? "left" : "right";
  var params = new URLSearchParams();
  if (data.hotline) params.set("hotline", data.hotline);
  if (data.title) params.set("title", data.title.slice(0, 40));
  var frameUrl = origin + "/widget/frame" + (params.toString() ? "?" + params.toString() : "");

  function css(node, rules) {
    Object.keys(rules).forEach(function (name) { node.style.setProperty(name, rules[name], "important"); });
  }

  var host = document.createElement("div");
  host.setAttribute("data-policykb-widget", "");
  css(host, { all: "initial", display: "block", position: "fixed", bottom: "20px", "z-index": "2147483000" });
  css(host, side === "left" ? { left: "20px" } : { right: "20px" });
  var root = host.attachShadow({ mode: "open" });

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("part", "button");
  css(button, {
    all: "initial", display: "block", cursor: "pointer", padding: "12px 20px", "border-radius": "24px",
    background: "#b3261e", color: "#ffffff", "font-size": "16px", "line-height": "1.2",
    "font-family": '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    "box-shadow": "0 4px 14px rgba(0,0,0,.3)", "margin-left": "auto",
  });

  var panel = null;
  function open() {
    if (!panel) {
      panel = document.createElement("iframe");
      panel.src = frameUrl;
      panel.title = label;
      panel.setAttribute("referrerpolicy", "no-referrer");
      css(panel, {
        all: "initial", display: "block", width: "370px", height: "540px", "max-width": "calc(100vw - 40px)",
        "max-height": "calc(100vh - 100px)", border: "1px solid #d0d7de", "border-radius": "10px",
        background: "#ffffff", "box-shadow": "0 8px 30px rgba(0,0,0,.3)", "margin-bottom": "12px",
      });
      root.insertBefore(panel, button);
    }
    panel.style.setProperty("display", "block", "important");
    button.setAttribute("aria-expanded", "true");
    panel.focus();
  }
  function close() {
    if (panel) panel.style.setProperty("display", "none", "important");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", function () {
    if (button.getAttribute("aria-expanded") === "true") close();
    else open();
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !panel || event.source !== panel.contentWindow) return;
    if (event.data && event.data.type === "policykb:close") close();
  });

  root.appendChild(button);
  function attach() { document.body.appendChild(host); }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
