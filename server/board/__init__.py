"""The wall board `/board` (issue 4) and the two small public APIs it reads.

    layouts.py  slides, layouts (full 16:9, strip) and the page's URL parameters
    page.py     the page, painted on the server: frame, tiles, first figure
    slides.py   the Plotly slides, built in a thread and cached (`FigureCache`): the
                turnout's from the public picture, the results' from the public results
    items.py    the ticker's notes, re-votes and winners, the approved photos, the
                results' summary

- `GET /board`: the page, first painted on the server from the current public picture
  (frame, tiles) with the first slide's figure embedded; `dashboards/static/board.js`
  then follows `/ws/live` as a public viewer. URL parameters:
  `lang` (vi default, en, fr, es, zh, ru), `layout` (`full` 1920×1080 default, `strip`
  1920×360), `slides` (order, e.g. `map,tiles:20,ranking`: a name with optional seconds;
  the results slides `hemicycle`, `results_map`, `composition` sit out until a unit has a
  public result), `seats` (what colours the hemicycle: `gender` default, `region`,
  `former_deputy`),
  `seconds` (default seconds per slide), `stale` (seconds without an update before the
  board says STALE; default `VOTEWIRE_BOARD_STALE_S`), `refresh` (seconds between two
  reads of `/api/board/items`; default `ITEMS_REFRESH_S`).
- `GET /api/board/items?limit=30`: the latest public notes and re-vote reports, newest
  first (the ticker and the notes slide), the re-vote units the picture counts (the
  re-votes slide), and the latest `PHOTOS_MAX` photos an editor approved, the latest
  approved first (the notes slide). Internal items never: the SQL asks for
  `audience = 'public'`, and for `status = 'approved'` photos. A photo's approval is no
  live event (photos take no seq): the board sees it at its next read of the items.
  The items also carry the public results' `summary` (with its `seq`) and the winners of
  the latest declared units (the ticker: "Hà Nội · ĐV 1: Nguyễn Phú Trọng 93,23%").
- `GET /api/board/figure/{name}?lang=&layout=[&seats=]`: one slide's Plotly figure as
  JSON, built by `dashboards.figures` from the current public picture, or for a results
  slide by `dashboards.figures.build_results` from the current public results. National
  figures and the results' summary come as given; nothing is recomputed here or in the
  browser. A result on the live feed (its update carries `unit` and `results`) redraws
  the results slide on screen at once.

Figures are built in a worker thread (a map takes ~0.2 s of CPU, which must not stall the
live feed) and kept per (chart, language, layout) on the app, rebuilt for a newer picture
at most every `FIGURE_MIN_AGE_S`: the cost does not grow with the number of boards.
"""
