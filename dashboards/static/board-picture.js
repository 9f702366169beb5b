/* The picture the wall board holds: the national block and the provinces as the server
 * sent them, the public notes and re-vote reports (newest first, at most `items_limit`),
 * each re-vote unit's latest report (at most 100) and the approved photos (at most
 * `photos_max`); and the results (board-results.js). A snapshot replaces it, an update
 * changes one province (and, for a result, the results), and the items come from
 * /api/board/items: on a snapshot, after a re-vote, and every `items_refresh_s` (a photo's
 * approval is no live event). Internal items never enter it.
 *
 * `seq` is the last update applied; `turnoutSeq` the last that was not about results, so
 * the turnout figures are not fetched again for a result (nor the results' for a turnout
 * figure): each figure says by its `meta.seq` which picture it shows.
 */

/** The picture from the page's `boot`, and what changes it. `lists.dirty` says the text
 * slides must be rebuilt; `markDirty()` asks for a render; `conn.open` says the feed is up;
 * `results` holds the results, and `onResults()` is told at once when an update brings some. */
export function makePicture({ boot, cfg, conn, lists, markDirty, results, onResults }) {
  var state = {
    seq: boot.picture.seq,
    turnoutSeq: boot.picture.seq,
    national: boot.picture.national || {},
    provinces: {},
    rehearsal: !!boot.picture.rehearsal,
    lastUpdate: Date.now(), // real time: the feed's silence, whatever the clock's speed
    items: [], // notes and re-vote reports, newest first, at most cfg.items_limit
    revotes: [], // each re-vote unit's latest report
    photos: [], // approved photos, the latest approved first, at most cfg.photos_max
  };

  function indexProvinces(list) {
    var out = {};
    (list || []).forEach(function (p) {
      out[p.code] = p;
    });
    return out;
  }
  state.provinces = indexProvinces(boot.picture.provinces);

  function newestFirst(a, b) {
    var ta = Date.parse(a.as_of), tb = Date.parse(b.as_of);
    if (ta !== tb) return tb - ta;
    return (b.seq || 0) - (a.seq || 0);
  }

  function isPublic(item) {
    return !(item.data && item.data.audience === "internal");
  }

  /* The server's list, plus live items it did not have yet (they arrived during the fetch). */
  function setItems(items, revotes, photos) {
    var top = 0;
    var ids = {};
    items.forEach(function (it) {
      ids[it.id] = true;
      if (it.seq > top) top = it.seq;
    });
    var merged = items.concat(
      state.items.filter(function (it) {
        return !ids[it.id] && it.seq > top;
      })
    );
    state.items = merged.filter(isPublic).sort(newestFirst).slice(0, cfg.items_limit);
    if (revotes) state.revotes = revotes.slice(0, 100);
    if (photos) state.photos = photos.slice(0, cfg.photos_max);
    lists.dirty = true;
  }

  function addItem(item) {
    if (!isPublic(item)) return;
    for (var i = 0; i < state.items.length; i++) if (state.items[i].id === item.id) return;
    state.items.push(item);
    state.items.sort(newestFirst);
    if (state.items.length > cfg.items_limit) state.items.length = cfg.items_limit;
    lists.dirty = true;
  }

  // --- from the live feed -------------------------------------------------------------------

  function applySnapshot(msg) {
    state.seq = msg.seq;
    state.turnoutSeq = msg.seq;
    state.national = msg.national || {};
    state.provinces = indexProvinces(msg.provinces);
    state.rehearsal = !!msg.rehearsal;
    refreshItemsSoon(); // a snapshot carries no notes
  }

  function applyUpdate(u) {
    state.seq = u.seq;
    if (u.results) {
      results.applyUnit(u.seq, u.unit, u.results);
      lists.dirty = true; // the ticker's winners
      onResults();
    } else {
      state.turnoutSeq = u.seq;
    }
    if (u.province && u.province.code) state.provinces[u.province.code] = u.province;
    if (u.national) state.national = u.national;
    if (typeof u.rehearsal === "boolean") state.rehearsal = u.rehearsal;
    var ev = u.event;
    if (ev && (ev.kind === "note" || ev.kind === "revote")) {
      addItem({ id: ev.id, seq: u.seq, kind: ev.kind, province: ev.province, as_of: ev.as_of, data: ev.data || {} });
      if (ev.kind === "revote") refreshItemsSoon(); // the units table comes from the server
    }
  }

  // --- items (ticker, notes, re-votes, photos) from the server -------------------------------

  var itemsFetch = { busy: false, again: false, timer: null };

  function refreshItems() {
    if (itemsFetch.busy) {
      itemsFetch.again = true;
      return;
    }
    itemsFetch.busy = true;
    fetch("/api/board/items?limit=" + cfg.items_limit, { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (body) {
        setItems(body.items || [], body.revotes || [], body.photos || []);
        if (results.setResults(body.results, body.winners)) onResults();
        markDirty();
      })
      .catch(function () {
        /* kept as they are; the next snapshot or the periodic refresh tries again */
      })
      .then(function () {
        itemsFetch.busy = false;
        if (itemsFetch.again) {
          itemsFetch.again = false;
          refreshItemsSoon();
        }
      });
  }

  function refreshItemsSoon() {
    if (itemsFetch.timer) return;
    itemsFetch.timer = setTimeout(function () {
      itemsFetch.timer = null;
      if (conn.open) refreshItems();
    }, 1000);
  }

  return { state, setItems, applySnapshot, applyUpdate, refreshItems, refreshItemsSoon };
}
