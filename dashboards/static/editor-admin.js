/* The desk's other tabs: official figures (recorded beside ours, withdrawn), photos
 * waiting for review (approve, reject) and, for admins, access tokens (issue, revoke).
 */

/** The tabs' loaders over the page's labels (`t`), `api` and helpers. */
export function makeAdmin({ t, $, el, api, provinceName, fmtPct, fmtDiff, dmhm, liveSoon, agency }) {
  // --- official figures ---------------------------------------------------------------
  async function loadOfficial() {
    const body = await api("/editor/api/official");
    const tbody = $("official-list");
    tbody.replaceChildren();
    if (!body.items.length) tbody.append(el("tr", {}, el("td", { class: "empty" }, t.official_empty)));
    for (const o of body.items) {
      tbody.append(
        el(
          "tr",
          { "data-id": o.id },
          el("td", {}, o.province ? provinceName(o.province) : t.scope_national),
          el("td", {}, dmhm(o.as_of)),
          el("td", { class: "num" }, fmtPct(o.turnout_pct)),
          el("td", { class: "num" }, `${agency} ${fmtPct(o.ours_pct)}`),
          el("td", { class: "num", "data-warn": Math.abs(o.diff || 0) >= 0.5 ? "1" : "0" }, fmtDiff(o.diff)),
          el("td", {}, o.source),
          el(
            "td",
            {},
            el("button", {
              type: "button",
              class: "link",
              onclick: async () => {
                await api(`/editor/api/official/${o.id}/withdraw`, { json: {} });
                await loadOfficial();
                liveSoon(0);
              },
            }, t.withdraw)
          )
        )
      );
    }
  }
  $("official-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const msg = $("official-msg");
    try {
      await api("/editor/api/official", {
        json: {
          province: f.get("province") || null,
          turnout_pct: f.get("turnout_pct"),
          as_of: f.get("as_of"),
          source: f.get("source"),
        },
      });
      msg.textContent = t.done;
      msg.dataset.ok = "1";
      ev.target.reset();
      await loadOfficial();
      liveSoon(0);
    } catch (e) {
      msg.textContent = t.error.replace("{m}", e.message);
      msg.dataset.ok = "0";
    }
  });

  // --- photos -------------------------------------------------------------------------
  async function loadPhotos() {
    const body = await api("/editor/api/photos?status=pending");
    const list = $("photos");
    list.replaceChildren();
    $("photo-count").textContent = body.photos.length ? `(${body.photos.length})` : "";
    if (!body.photos.length) list.append(el("li", { class: "empty" }, t.photos_empty));
    for (const p of body.photos) {
      const review = async (decision) => {
        await api(`/editor/api/photos/${p.id}/${decision}`, { json: {} });
        await loadPhotos();
      };
      list.append(
        el(
          "li",
          { "data-id": p.id },
          el("img", { src: p.url, alt: p.caption, loading: "lazy", width: "160", height: String(Math.round((160 * p.height) / p.width)) }),
          el("p", {}, el("strong", {}, p.province_name), " · ", p.caption),
          el(
            "div",
            { class: "actions" },
            el("button", { type: "button", onclick: () => review("approve") }, t.approve),
            el("button", { type: "button", class: "danger", onclick: () => review("reject") }, t.reject)
          )
        )
      );
    }
  }

  // --- tokens (admins) ----------------------------------------------------------------
  async function loadTokens() {
    if (!$("token-list")) return;
    const body = await api("/editor/api/tokens");
    const tbody = $("token-list");
    tbody.replaceChildren();
    for (const tok of body.tokens.slice(0, 200)) {
      tbody.append(
        el(
          "tr",
          { "data-revoked": tok.revoked_at ? "1" : "0" },
          el("td", {}, "#" + tok.id),
          el("td", {}, t["role_" + tok.role] || tok.role),
          el("td", {}, tok.province ? provinceName(tok.province) : ""),
          el("td", {}, tok.label || ""),
          el(
            "td",
            {},
            tok.revoked_at
              ? t.revoked
              : el("button", {
                  type: "button",
                  class: "link danger",
                  onclick: async () => {
                    await api(`/editor/api/tokens/${tok.id}/revoke`, { json: {} });
                    await loadTokens();
                  },
                }, t.revoke)
          )
        )
      );
    }
  }
  if ($("token-form")) {
    $("token-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const msg = $("token-msg");
      try {
        const out = await api("/editor/api/tokens", {
          json: { role: f.get("role"), province: f.get("role") === "bureau" ? f.get("province") : null, label: f.get("label") },
        });
        msg.replaceChildren(t.new_token + " ", el("code", {}, out.token));
        await loadTokens();
      } catch (e) {
        msg.textContent = t.error.replace("{m}", e.message);
      }
    });
  }

  return { loadOfficial, loadPhotos, loadTokens };
}
