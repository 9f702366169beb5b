-- Ingest at the database's limit (issue 14): the same answers, locks, `seq` order and feed
-- frames as migrations/001–008, for much less work per report, and most of it outside the
-- counter's lock.
--
-- Measured before (pg_stat_user_functions over batches of 63 turnout reports): of each
-- report's time in the database, a quarter went to `national_from` (an SQL function over
-- arrays of the 63 provinces, planned again at every call), a fifth to `province_entries`
-- (eight queries over the province's log), a third to the rest of `record_change_with`
-- (the province's row, the aggregate over every province, the counter row read and updated
-- once per report — a chain of row versions that grows within the batch — and the two
-- frames), the rest to `accept_report` (its insert, then a second write of the row to set
-- its seq, which adds an entry to every index of `reports`). And all of it from the first
-- report of a batch to its COMMIT under the counter's lock, so batches of several writers
-- (processes, or one process's writers) could not overlap at all.
--
-- So a batch now works in two steps:
-- 1. Without the counter: every lock it needs, in the one order every writer keeps (the
--    shared revocation lock, the reports' ids by key, the provinces' state rows by code),
--    then for each report the checks of the contract (revoked, duplicate / conflict,
--    regression, rate), and for each accepted one its province's new entries brought
--    forward from the stored ones (`province_entries_after`: only what the report
--    changes) and written to `province_state`. Several batches do this at once.
-- 2. Under the counter (taken after every other lock, held to COMMIT: seq order is commit
--    order, no gaps): each accepted report inserted with its seq, the national figures as
--    running sums read once (`national_json`, the definition of `national_from`), the two
--    frames written as text, the counter written once and one NOTIFY of the last seq (a
--    wake-up: every process reads the feed rows after the last one it published).
-- A report that step 1 cannot judge alone — its province or id already earlier in the
-- batch, or a re-vote (the unit's latest status is read from the log, the report included)
-- — waits for step 2 and is judged there in its turn, exactly as before.

-- Every lock a batch of reports (`items`, as `accept_batch` takes them) needs before the
-- counter, in the order every writer takes them, so two batches (or a batch and an
-- editor's action) never wait on each other in a cycle. `server.store.reports` takes them
-- for a batch holding results too, before the results' own steps.
CREATE FUNCTION lock_reports(items jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7472005);
    FOR k IN
        SELECT DISTINCT hashtextextended((value->>'id')::uuid::text, 0) AS key
        FROM jsonb_array_elements(items) ORDER BY key
    LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    PERFORM 1 FROM province_state
    WHERE code IN (SELECT value->>'province' FROM jsonb_array_elements(items))
    ORDER BY code FOR UPDATE;
END
$$;

CREATE FUNCTION severity_name(r int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE r WHEN 1 THEN 'info' WHEN 2 THEN 'watch' WHEN 3 THEN 'incident' END
$$;

-- What one province adds to the national sums, from its state's figures:
-- {1, reported, voted, has registered, registered, has areas_done, areas_done,
--  has areas_total, areas_total, re-vote units, public re-vote units}
-- (the registered voters count only where the turnout is known, as in `national_from`).
CREATE FUNCTION national_part(
    voted bigint, registered bigint, areas_done bigint, areas_total bigint,
    revotes bigint, revotes_pub bigint) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[1, (voted IS NOT NULL)::int, coalesce(voted, 0),
                 (voted IS NOT NULL AND registered IS NOT NULL)::int,
                 CASE WHEN voted IS NOT NULL THEN coalesce(registered, 0) ELSE 0 END,
                 (areas_done IS NOT NULL)::int, coalesce(areas_done, 0),
                 (areas_total IS NOT NULL)::int, coalesce(areas_total, 0),
                 coalesce(revotes, 0), coalesce(revotes_pub, 0)]::bigint[]
$$;

-- The national figures from the sums of `national_part` over every province, for editors
-- or the public (who count only the re-votes they may see): the values `national_from`
-- gives (null where no province reported). Not IMMUTABLE (`jsonb_build_object` is not),
-- so that PL/pgSQL inlines it: an SQL function that is not inlined is planned at each call.
CREATE FUNCTION national_json(s bigint[], public boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'voted', CASE WHEN s[2] > 0 THEN s[3] END,
        'registered', CASE WHEN s[4] > 0 THEN s[5] END,
        'turnout_pct', CASE WHEN s[2] > 0 AND s[4] > 0
                            THEN s[3]::float8 / nullif(s[5], 0)::float8 * 100 END,
        'provinces_reporting', s[2],
        'provinces_total', s[1],
        'areas_done', CASE WHEN s[6] > 0 THEN s[7] END,
        'areas_total', CASE WHEN s[8] > 0 THEN s[9] END,
        'revote_units', CASE WHEN public THEN s[11] ELSE s[10] END)
$$;

-- `s` with one province's part `before` replaced by `after`.
CREATE FUNCTION national_moved(s bigint[], before bigint[], after bigint[])
RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[s[1] - before[1] + after[1], s[2] - before[2] + after[2],
                 s[3] - before[3] + after[3], s[4] - before[4] + after[4],
                 s[5] - before[5] + after[5], s[6] - before[6] + after[6],
                 s[7] - before[7] + after[7], s[8] - before[8] + after[8],
                 s[9] - before[9] + after[9], s[10] - before[10] + after[10],
                 s[11] - before[11] + after[11]]
$$;

-- One update of the live feed as text, byte for byte what `jsonb_build_object(...)::text`
-- of migrations/007–008 writes (keys in jsonb's order), from its parts already written as
-- text (STABLE for inlining, as `national_json`).
CREATE FUNCTION feed_text(n bigint, prev bigint, event text, nat jsonb, entry text,
                          rehearsal boolean) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT '{"seq": ' || n || ', "prev": ' || coalesce(prev::text, 'null')
           || ', "type": "update", "event": ' || event || ', "national": ' || nat::text
           || ', "province": ' || entry || ', "rehearsal": ' || rehearsal || '}'
$$;

-- The `event` of a report's update, as text (`record_change`'s of migrations/001).
CREATE FUNCTION event_text(it jsonb) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', (it->>'id')::uuid, 'kind', it->'kind',
                              'as_of', (it->>'as_of')::timestamptz,
                              'province', it->'province', 'data', it->'data')::text
$$;

-- A province's entries (public, internal) after one more report, from its entries before:
-- equal to `province_entries(p, 'infinity')` once the report is stored with the highest
-- seq. A turnout or completion report is the figure shown unless another of its kind is
-- later (at the same moment the higher seq, this one, wins); a security report can only
-- raise the level; every report may move `last_report_at`. Times are written again in this
-- session's zone, as a recomputation would. Only for turnout, completion, security and
-- note (a re-vote recomputes the province from its log, after its insert).
CREATE FUNCTION province_entries_after(
    p text, pub jsonb, int_ jsonb, r_kind text, r_as_of timestamptz, r_data jsonb,
    r_voted bigint, r_registered bigint, r_pct double precision, r_audience text,
    OUT public jsonb, OUT internal jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    figures jsonb;
    rank int;
BEGIN
    figures := jsonb_build_object('as_of', (int_->>'as_of')::timestamptz);
    IF r_kind = 'turnout' THEN
        PERFORM 1 FROM reports r
        WHERE r.province = p AND r.kind = 'turnout' AND NOT r.retracted AND r.as_of > r_as_of;
        IF NOT FOUND THEN
            figures := jsonb_build_object(
                'voted', r_voted, 'registered', r_registered, 'turnout_pct', r_pct,
                'as_of', r_as_of);
        END IF;
    ELSIF r_kind = 'completion' THEN
        PERFORM 1 FROM reports r
        WHERE r.province = p AND r.kind = 'completion' AND NOT r.retracted
          AND r.as_of > r_as_of;
        IF NOT FOUND THEN
            figures := figures || jsonb_build_object(
                'areas_done', (r_data->>'areas_done')::bigint,
                'areas_total', (r_data->>'areas_total')::bigint,
                'units_done', (r_data->>'units_done')::bigint,
                'units_total', (r_data->>'units_total')::bigint);
        END IF;
    END IF;
    rank := CASE WHEN r_kind = 'security' THEN severity_rank(r_data->>'severity') END;
    internal := int_ || figures || jsonb_build_object(
        'security_level',
        severity_name(greatest(severity_rank(int_->>'security_level'), rank)),
        'last_report_at',
        greatest((int_->>'last_report_at')::timestamptz, r_as_of));
    IF r_audience = 'public' THEN
        public := pub || figures || jsonb_build_object(
            'security_level',
            severity_name(greatest(severity_rank(pub->>'security_level'), rank)),
            'last_report_at',
            greatest((pub->>'last_report_at')::timestamptz, r_as_of));
    ELSE
        public := pub || figures || jsonb_build_object(
            'last_report_at', (pub->>'last_report_at')::timestamptz);
    END IF;
END
$$;

-- The contract's checks of one report in the database, in its order: duplicate or
-- conflict (same id), regression (a turnout below the latest one not after it, unless a
-- correction), rate_limited. NULL outcome: the report may be stored. The caller holds the
-- id's and the province's locks.
CREATE FUNCTION report_refusal(it jsonb, OUT outcome text, OUT seq bigint, OUT detail jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    old reports%ROWTYPE;
    prev record;
BEGIN
    SELECT * INTO old FROM reports r WHERE r.id = (it->>'id')::uuid;
    IF FOUND THEN
        seq := old.seq;
        IF old.province = it->>'province' AND old.kind = it->>'kind'
           AND old.as_of = (it->>'as_of')::timestamptz AND old.data = it->'data' THEN
            outcome := 'duplicate';
        ELSE
            outcome := 'conflict';
        END IF;
        RETURN;
    END IF;
    IF it->>'kind' = 'turnout' AND NOT (it->>'correction')::boolean THEN
        SELECT t.voted, t.as_of INTO prev FROM reports t
        WHERE t.province = it->>'province' AND t.kind = 'turnout' AND NOT t.retracted
          AND t.as_of <= (it->>'as_of')::timestamptz
        ORDER BY t.as_of DESC, t.seq DESC LIMIT 1;
        IF FOUND AND (it->>'voted')::bigint < prev.voted THEN
            outcome := 'regression';
            detail := jsonb_build_object('voted', prev.voted, 'as_of', prev.as_of);
            RETURN;
        END IF;
    END IF;
    IF NOT (it->>'rate_ok')::boolean THEN
        outcome := 'rate_limited';
    END IF;
END
$$;

-- A province's state after one accepted report (stored already when `recompute`): its new
-- entries written to `province_state`; returns them with the province's national part
-- before and after.
CREATE FUNCTION province_moved(it jsonb, recompute boolean,
                               OUT public jsonb, OUT internal jsonb,
                               OUT before bigint[], OUT after bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    st province_state%ROWTYPE;
    e record;
    p text := it->>'province';
BEGIN
    SELECT * INTO st FROM province_state s WHERE s.code = p;
    before := national_part(st.voted, st.registered, st.areas_done, st.areas_total,
                            st.revote_units, st.revote_units_public);
    IF recompute THEN
        e := province_entries(p, 'infinity');
    ELSE
        e := province_entries_after(
            p, st.public, st.internal, it->>'kind', (it->>'as_of')::timestamptz, it->'data',
            (it->>'voted')::bigint, (it->>'registered')::bigint,
            (it->>'turnout_pct')::double precision, it->>'audience');
    END IF;
    public := e.public;
    internal := e.internal;
    UPDATE province_state s
       SET public = province_moved.public, internal = province_moved.internal,
           voted = (province_moved.internal->>'voted')::bigint,
           registered = (province_moved.internal->>'registered')::bigint,
           areas_done = (province_moved.internal->>'areas_done')::bigint,
           areas_total = (province_moved.internal->>'areas_total')::bigint,
           revote_units = (province_moved.internal->>'revote_units')::bigint,
           revote_units_public = (province_moved.public->>'revote_units')::bigint
     WHERE s.code = p;
    after := national_part(
        (internal->>'voted')::bigint, (internal->>'registered')::bigint,
        (internal->>'areas_done')::bigint, (internal->>'areas_total')::bigint,
        (internal->>'revote_units')::bigint, (public->>'revote_units')::bigint);
END
$$;

-- As in migrations/005 (with 001's `accept_report` for each item and 007's frames): the
-- same outcome for each item, in the items' order, in two steps (top of this file).
CREATE OR REPLACE FUNCTION accept_batch(items jsonb, rehearsal boolean)
RETURNS TABLE (outcome text, seq bigint, detail jsonb) LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    revoked bigint[];
    k int := jsonb_array_length(items);
    i int := 0;
    -- per item: its outcome so far ('ready': checked in step 1, its province moved,
    -- waiting for its seq; 'later': to be judged in step 2), seq and detail, and for a
    -- stored one its event and province's entries as text and its province's national
    -- parts (11 per item, see `national_part`) before and after it
    outs text[] := array_fill(NULL::text, ARRAY[k]);
    seqs bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    details jsonb[] := array_fill(NULL::jsonb, ARRAY[k]);
    events text[] := array_fill(NULL::text, ARRAY[k]);
    pubs text[] := array_fill(NULL::text, ARRAY[k]);
    ints text[] := array_fill(NULL::text, ARRAY[k]);
    befores bigint[] := array_fill(NULL::bigint, ARRAY[k * 11]);
    afters bigint[] := array_fill(NULL::bigint, ARRAY[k * 11]);
    before bigint[];
    after bigint[];
    provinces_seen text[] := '{}';
    ids_seen text[] := '{}';
    chk record;
    moved record;
    n bigint;
    pub_seq bigint;
    sums bigint[];
BEGIN
    PERFORM lock_reports(items);
    SELECT coalesce(array_agg(t.id), '{}') INTO revoked FROM tokens t
    WHERE t.revoked_at IS NOT NULL
      AND t.id IN (SELECT (value->>'token_id')::bigint FROM jsonb_array_elements(items));
    -- Step 1, without the counter.
    FOR it IN SELECT value FROM jsonb_array_elements(items) LOOP
        i := i + 1;
        IF (it->>'token_id')::bigint = ANY (revoked) THEN
            outs[i] := 'revoked';
            CONTINUE;
        END IF;
        IF it->>'kind' NOT IN ('turnout', 'completion', 'security', 'note')
           OR it->>'province' = ANY (provinces_seen) OR it->>'id' = ANY (ids_seen) THEN
            outs[i] := 'later';
        ELSE
            chk := report_refusal(it);
            IF chk.outcome IS NOT NULL THEN
                outs[i] := chk.outcome;
                seqs[i] := chk.seq;
                details[i] := chk.detail;
            ELSE
                moved := province_moved(it, false);
                outs[i] := 'ready';
                events[i] := event_text(it);
                pubs[i] := moved.public::text;
                ints[i] := moved.internal::text;
                befores[(i - 1) * 11 + 1 : i * 11] := moved.before;
                afters[(i - 1) * 11 + 1 : i * 11] := moved.after;
            END IF;
        END IF;
        provinces_seen := provinces_seen || (it->>'province');
        ids_seen := ids_seen || (it->>'id');
    END LOOP;
    -- Step 2, under the counter.
    IF 'ready' = ANY (outs) OR 'later' = ANY (outs) THEN
        SELECT c.seq, c.public_seq INTO n, pub_seq FROM counter c FOR UPDATE;
        -- Every change of a province's state commits under the counter: the sums read now
        -- (this batch's step 1 is in them: taken back out) stay true until this batch
        -- changes them.
        SELECT ARRAY[count(*), sum(x[2]), sum(x[3]), sum(x[4]), sum(x[5]), sum(x[6]),
                     sum(x[7]), sum(x[8]), sum(x[9]), sum(x[10]), sum(x[11])]::bigint[]
          INTO sums
          FROM (SELECT national_part(s.voted, s.registered, s.areas_done, s.areas_total,
                                     s.revote_units, s.revote_units_public) AS x
                FROM province_state s) ps;
        FOR j IN 1..k LOOP
            IF outs[j] = 'ready' THEN
                before := befores[(j - 1) * 11 + 1 : j * 11];
                after := afters[(j - 1) * 11 + 1 : j * 11];
                sums := national_moved(sums, after, before);
            END IF;
        END LOOP;
    END IF;
    i := 0;
    FOR it IN SELECT value FROM jsonb_array_elements(items) LOOP
        i := i + 1;
        IF outs[i] = 'later' THEN
            chk := report_refusal(it);
            IF chk.outcome IS NOT NULL THEN
                outs[i] := chk.outcome;
                seqs[i] := chk.seq;
                details[i] := chk.detail;
            END IF;
        END IF;
        IF outs[i] IN ('ready', 'later') THEN
            n := n + 1;
            seqs[i] := n;
            INSERT INTO reports (id, seq, province, kind, as_of, data, voted, registered,
                                 turnout_pct, correction, audience, token_id)
            VALUES ((it->>'id')::uuid, n, it->>'province', it->>'kind',
                    (it->>'as_of')::timestamptz, it->'data', (it->>'voted')::bigint,
                    (it->>'registered')::bigint, (it->>'turnout_pct')::double precision,
                    (it->>'correction')::boolean, it->>'audience', (it->>'token_id')::bigint);
            IF outs[i] = 'later' THEN
                moved := province_moved(
                    it, it->>'kind' NOT IN ('turnout', 'completion', 'security', 'note'));
                events[i] := event_text(it);
                pubs[i] := moved.public::text;
                ints[i] := moved.internal::text;
                before := moved.before;
                after := moved.after;
            ELSE
                before := befores[(i - 1) * 11 + 1 : i * 11];
                after := afters[(i - 1) * 11 + 1 : i * 11];
            END IF;
            sums := national_moved(sums, before, after);
            IF it->>'audience' = 'public' THEN
                INSERT INTO feed (seq, public_prev, public, internal) VALUES (
                    n, pub_seq,
                    feed_text(n, pub_seq, events[i], national_json(sums, true), pubs[i],
                              rehearsal),
                    feed_text(n, n - 1, events[i], national_json(sums, false), ints[i],
                              rehearsal));
                pub_seq := n;
            ELSE
                INSERT INTO feed (seq, public_prev, public, internal) VALUES (
                    n, NULL, NULL,
                    feed_text(n, n - 1, events[i], national_json(sums, false), ints[i],
                              rehearsal));
            END IF;
            outs[i] := 'accepted';
        END IF;
        outcome := outs[i];
        seq := seqs[i];
        detail := details[i];
        RETURN NEXT;
    END LOOP;
    IF 'accepted' = ANY (outs) THEN
        UPDATE counter SET seq = n, public_seq = pub_seq;
        PERFORM pg_notify('votewire_feed', n::text);
    END IF;
END
$$;

-- Each accepted report rewrites its province's row (two entries, near 1 KB), and every
-- batch reads the whole table for the national sums: room on each page for new versions
-- keeps the updates on their page (HOT) and the table a few pages long (packed full, it
-- grew to hundreds of pages within a few thousand reports). Pages written from now on.
ALTER TABLE province_state SET (fillfactor = 50);
