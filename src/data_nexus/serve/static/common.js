// Shared by the pages: API calls (with the bearer token when the server wants one),
// formatting, and the error line. No framework, no network beyond this server.
"use strict";

const DN = (() => {
  const TOKEN_KEY = "datanexus.token";

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function showMessage(text) { document.getElementById("message").textContent = text || ""; }

  function askToken(retry) {
    const form = document.getElementById("auth");
    form.style.display = "flex";
    form.onsubmit = (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, form.elements.token.value.trim());
      form.style.display = "none";
      showMessage("");
      Promise.resolve(retry()).catch(() => {});  // a wrong token asks again; nothing to throw
    };
  }

  async function get(path, retry) {
    const headers = { Accept: "application/json" };
    const saved = token();
    if (saved) headers.Authorization = `Bearer ${saved}`;
    const response = await fetch(path, { headers });
    if (response.status === 401) {
      showMessage("This server needs its access token.");
      askToken(retry);
      throw new Error("unauthorised");
    }
    const body = await response.json();
    if (!response.ok) {
      showMessage(body.error || `HTTP ${response.status}`);
      throw new Error(body.error || `HTTP ${response.status}`);
    }
    return body;
  }

  function when(iso) {
    if (!iso) return "never";
    return iso.replace("T", " ").replace(/:\d\d(\.\d+)?(Z|[+-]00:00)$/, " UTC");
  }

  function cell(tr, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  return { get, when, cell, showMessage };
})();
