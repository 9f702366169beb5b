-- Ingest at the database's limit (issue 14), continued from migrations/009: the same
-- answers, locks, seq order and frames, with fewer statements per report.
--
-- Measured on 009 (backend CPU per report over batches of 63 turnout reports: ~180 µs,
-- against ~590 µs before 009): each report still ran about a dozen statements of its own
-- (its id and history looked up, its province's row read, merged and written, its report
-- and its feed row inserted), and in PL/pgSQL each statement has its own start-up; each
-- batch read `province_state` whole for the sums and again to lock its rows. Now ~130 µs:
-- - step 1 locks and reads the batch's province rows in one query, looks up every
--   report's id and history in one query, brings each entry forward in one expression
--   (`entry_after`) and writes the provinces back in one UPDATE;
-- - step 2 writes the reports and the feed rows with one INSERT each (a report judged in
--   step 2 — a repeat or a re-vote, 009 — has the reports before it written first: its
--   checks, and a re-vote's recomputation, read the log);
-- - a NOTICE 'votewire: step 2' once a batch holds the counter tells the server's writers
--   (`server.reports.Desk`) to gather the next batch: it does its step 1 while this one
--   finishes, with every report that arrived meanwhile.

-- The national sums (`national_part` added over every province) as of the counter's seq
-- `national_seq`, left by the last batch: the next batch starts from them instead of
-- reading every province's row, if no other change took a seq since (`record_change`,
-- which computes its own, leaves them behind). A change of the provinces themselves, or
-- of the rows of `province_state` (the seeding, a reset), forgets them.
ALTER TABLE counter ADD COLUMN national bigint[], ADD COLUMN national_seq bigint;

CREATE FUNCTION forget_national() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE counter SET national = NULL, national_seq = NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER provinces_forget_national
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON provinces
FOR EACH STATEMENT EXECUTE FUNCTION forget_national();

CREATE TRIGGER province_state_forget_national
AFTER INSERT OR DELETE OR TRUNCATE ON province_state
FOR EACH STATEMENT EXECUTE FUNCTION forget_national();

-- One of a province's entries (`entry`, public or internal) after one more report: what
-- `province_entries_after` (migrations/009) computes, told whether the report's turnout or
-- completion figure is the latest of its kind (`latest`) instead of reading the log, and
-- whether this entry's reader may see the report (`sees`). One expression (SQL, inlined
-- where it is called), one merge into the entry.
CREATE FUNCTION entry_after(entry jsonb, it jsonb, latest boolean, sees boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT entry || (
        CASE
            WHEN latest AND it->>'kind' = 'turnout' THEN jsonb_build_object(
                'voted', (it->>'voted')::bigint, 'registered', (it->>'registered')::bigint,
                'turnout_pct', (it->>'turnout_pct')::double precision,
                'as_of', (it->>'as_of')::timestamptz)
            WHEN latest AND it->>'kind' = 'completion' THEN jsonb_build_object(
                'as_of', (entry->>'as_of')::timestamptz,
                'areas_done', (it->'data'->>'areas_done')::bigint,
                'areas_total', (it->'data'->>'areas_total')::bigint,
                'units_done', (it->'data'->>'units_done')::bigint,
                'units_total', (it->'data'->>'units_total')::bigint)
            ELSE jsonb_build_object('as_of', (entry->>'as_of')::timestamptz)
        END
        || CASE
            WHEN sees THEN jsonb_build_object(
                'security_level', severity_name(greatest(
                    severity_rank(entry->>'security_level'),
                    CASE WHEN it->>'kind' = 'security'
                         THEN severity_rank(it->'data'->>'severity') END)),
                'last_report_at', greatest((entry->>'last_report_at')::timestamptz,
                                           (it->>'as_of')::timestamptz))
            ELSE jsonb_build_object(
                'last_report_at', (entry->>'last_report_at')::timestamptz)
        END)
$$;

-- A province's entries after one more report and its national part before and after, from
-- its stored state (`province_moved` of 009 without writing them): `recompute` for a report
-- already inserted whose province is recomputed from the log (a re-vote). For the reports
-- judged in step 2.
CREATE FUNCTION province_after(it jsonb, recompute boolean, st province_state,
                               OUT public jsonb, OUT internal jsonb,
                               OUT before bigint[], OUT after bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    e record;
BEGIN
    before := national_part(st.voted, st.registered, st.areas_done, st.areas_total,
                            st.revote_units, st.revote_units_public);
    IF recompute THEN
        e := province_entries(st.code, 'infinity');
    ELSE
        e := province_entries_after(
            st.code, st.public, st.internal, it->>'kind', (it->>'as_of')::timestamptz,
            it->'data', (it->>'voted')::bigint, (it->>'registered')::bigint,
            (it->>'turnout_pct')::double precision, it->>'audience');
    END IF;
    public := e.public;
    internal := e.internal;
    after := national_part(
        (internal->>'voted')::bigint, (internal->>'registered')::bigint,
        (internal->>'areas_done')::bigint, (internal->>'areas_total')::bigint,
        (internal->>'revote_units')::bigint, (public->>'revote_units')::bigint);
END
$$;

-- Insert the items of a batch marked in `unsaved`, each with its seq from `seqs`.
CREATE FUNCTION save_reports(items jsonb, unsaved boolean[], seqs bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports (id, seq, province, kind, as_of, data, voted, registered,
                         turnout_pct, correction, audience, token_id)
    SELECT (x->>'id')::uuid, u.seq, x->>'province', x->>'kind',
           (x->>'as_of')::timestamptz, x->'data', (x->>'voted')::bigint,
           (x->>'registered')::bigint, (x->>'turnout_pct')::double precision,
           (x->>'correction')::boolean, x->>'audience', (x->>'token_id')::bigint
      FROM unnest(unsaved, seqs) WITH ORDINALITY AS u(unsaved, seq, j),
           LATERAL (SELECT items->(u.j::int - 1) AS x) e
     WHERE u.unsaved
     ORDER BY u.seq;
END
$$;

-- As in migrations/009, with the statements of many reports made one (top of this file).
CREATE OR REPLACE FUNCTION accept_batch(items jsonb, rehearsal boolean)
RETURNS TABLE (outcome text, seq bigint, detail jsonb) LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    key bigint;
    revoked bigint[];
    k int := jsonb_array_length(items);
    i int := 0;
    -- per item: its outcome so far ('ready': checked in step 1, its province moved,
    -- waiting for its seq; 'later': to be judged in step 2), seq and detail, its event
    -- and province's entries as text, what it changes in the national sums (11 per item,
    -- see `national_part`), and its feed row while it waits to be written
    outs text[] := array_fill(NULL::text, ARRAY[k]);
    seqs bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    details jsonb[] := array_fill(NULL::jsonb, ARRAY[k]);
    events text[] := array_fill(NULL::text, ARRAY[k]);
    pubs text[] := array_fill(NULL::text, ARRAY[k]);
    ints text[] := array_fill(NULL::text, ARRAY[k]);
    deltas bigint[] := array_fill(NULL::bigint, ARRAY[k * 11]);
    -- the national sums: what step 1 changed, then as of each item in step 2
    zero constant bigint[] := array_fill(0::bigint, ARRAY[11]);
    moved_sum bigint[] := zero;
    sums bigint[];
    sums_seq bigint;
    unsaved boolean[] := array_fill(false, ARRAY[k]);
    public_prevs bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    public_frames text[] := array_fill(NULL::text, ARRAY[k]);
    internal_frames text[] := array_fill(NULL::text, ARRAY[k]);
    -- the batch's provinces' state rows, and the new entries of those step 1 moved
    states province_state[];
    codes text[];
    tids tid[];
    place int;
    moved_tids tid[] := '{}';
    moved_pubs jsonb[] := '{}';
    moved_ints jsonb[] := '{}';
    st province_state;
    delta bigint[];
    provinces_seen text[] := '{}';
    ids_seen text[] := '{}';
    -- what step 1 needs from the log for every item, read at once: a stored report with
    -- the same id (its seq, and whether it is the same report), the latest turnout not
    -- after it (a turnout's history), whether a later figure of its kind is stored
    old_seqs bigint[];
    old_found boolean[];
    old_same boolean[];
    prev_voted bigint[];
    prev_as_of timestamptz[];
    overtaken boolean[];
    pub jsonb;
    int_ jsonb;
    chk record;
    moved record;
    n bigint;
    pub_seq bigint;
BEGIN
    -- `lock_reports` (migrations/009), the provinces' rows read as they are locked
    PERFORM pg_advisory_xact_lock_shared(7472005);
    FOR key IN
        SELECT DISTINCT hashtextextended((value->>'id')::uuid::text, 0) AS key
        FROM jsonb_array_elements(items) ORDER BY key
    LOOP
        PERFORM pg_advisory_xact_lock(key);
    END LOOP;
    -- (each row by its key, in order: a scan would pin every page of the table, and a
    -- page pinned by another writer cannot be pruned of its dead row versions)
    SELECT array_agg(x.s), array_agg((x.s).code), array_agg(x.tid) INTO states, codes, tids
      FROM (SELECT DISTINCT value->>'province' AS code FROM jsonb_array_elements(items)
            ORDER BY code) c,
           LATERAL (SELECT s, s.ctid AS tid FROM province_state s WHERE s.code = c.code
                    LIMIT 1 FOR UPDATE) x;
    SELECT coalesce(array_agg(t.id), '{}') INTO revoked FROM tokens t
    WHERE t.revoked_at IS NOT NULL
      AND t.id IN (SELECT (value->>'token_id')::bigint FROM jsonb_array_elements(items));
    SELECT array_agg(o.seq ORDER BY x.j), array_agg(o.id IS NOT NULL ORDER BY x.j),
           array_agg(coalesce(o.province = x.it->>'province' AND o.kind = x.it->>'kind'
                              AND o.as_of = (x.it->>'as_of')::timestamptz
                              AND o.data = x.it->'data', false) ORDER BY x.j),
           array_agg(p.voted ORDER BY x.j), array_agg(p.as_of ORDER BY x.j),
           array_agg(l.found IS NOT NULL ORDER BY x.j)
      INTO old_seqs, old_found, old_same, prev_voted, prev_as_of, overtaken
      FROM jsonb_array_elements(items) WITH ORDINALITY AS x(it, j)
      LEFT JOIN LATERAL (  -- one lookup by id each (LIMIT: never a join over the log)
          SELECT r.id, r.seq, r.province, r.kind, r.as_of, r.data FROM reports r
          WHERE r.id = (x.it->>'id')::uuid LIMIT 1) o ON true
      LEFT JOIN LATERAL (
          SELECT t.voted, t.as_of FROM reports t
          WHERE x.it->>'kind' = 'turnout' AND NOT (x.it->>'correction')::boolean
            AND t.province = x.it->>'province' AND t.kind = 'turnout' AND NOT t.retracted
            AND t.as_of <= (x.it->>'as_of')::timestamptz
          ORDER BY t.as_of DESC, t.seq DESC LIMIT 1) p ON true
      LEFT JOIN LATERAL (
          SELECT true AS found FROM reports t
          WHERE x.it->>'kind' IN ('turnout', 'completion')
            AND t.province = x.it->>'province' AND t.kind = x.it->>'kind' AND NOT t.retracted
            AND t.as_of > (x.it->>'as_of')::timestamptz
          LIMIT 1) l ON true;
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
        ELSIF old_found[i] THEN
            -- `report_refusal`'s checks (migrations/009), in its order, from what was read
            outs[i] := CASE WHEN old_same[i] THEN 'duplicate' ELSE 'conflict' END;
            seqs[i] := old_seqs[i];
        ELSIF prev_as_of[i] IS NOT NULL AND (it->>'voted')::bigint < prev_voted[i] THEN
            outs[i] := 'regression';
            details[i] := jsonb_build_object('voted', prev_voted[i], 'as_of', prev_as_of[i]);
        ELSIF NOT (it->>'rate_ok')::boolean THEN
            outs[i] := 'rate_limited';
        ELSE
            place := array_position(codes, it->>'province');
            st := states[place];
            pub := entry_after(st.public, it, NOT overtaken[i], it->>'audience' = 'public');
            int_ := entry_after(st.internal, it, NOT overtaken[i], true);
            outs[i] := 'ready';
            events[i] := event_text(it);
            pubs[i] := pub::text;
            ints[i] := int_::text;
            delta := national_moved(
                zero,
                national_part(st.voted, st.registered, st.areas_done, st.areas_total,
                              st.revote_units, st.revote_units_public),
                national_part((int_->>'voted')::bigint, (int_->>'registered')::bigint,
                              (int_->>'areas_done')::bigint, (int_->>'areas_total')::bigint,
                              (int_->>'revote_units')::bigint, (pub->>'revote_units')::bigint));
            deltas[(i - 1) * 11 + 1 : i * 11] := delta;
            moved_sum := national_moved(moved_sum, zero, delta);
            moved_tids := moved_tids || tids[place];
            moved_pubs := moved_pubs || pub;
            moved_ints := moved_ints || int_;
        END IF;
        provinces_seen := provinces_seen || (it->>'province');
        ids_seen := ids_seen || (it->>'id');
    END LOOP;
    UPDATE province_state s
       SET public = m.pub, internal = m.int_,
           voted = (m.int_->>'voted')::bigint, registered = (m.int_->>'registered')::bigint,
           areas_done = (m.int_->>'areas_done')::bigint,
           areas_total = (m.int_->>'areas_total')::bigint,
           revote_units = (m.int_->>'revote_units')::bigint,
           revote_units_public = (m.pub->>'revote_units')::bigint
      FROM unnest(moved_tids, moved_pubs, moved_ints) AS m(tid, pub, int_)
     WHERE s.ctid = m.tid AND s.ctid = ANY (moved_tids);  -- the rows locked above
    -- Step 2, under the counter.
    IF 'ready' = ANY (outs) OR 'later' = ANY (outs) THEN
        SELECT c.seq, c.public_seq, c.national, c.national_seq
          INTO n, pub_seq, sums, sums_seq FROM counter c FOR UPDATE;
        RAISE NOTICE 'votewire: step 2';
        -- Every change of a province's state commits under the counter. The sums the last
        -- batch left in the counter are true if nothing else took a seq since (the other
        -- writers of `province_state` leave them behind, bottom of this file); else they
        -- are read again (this batch's step 1 is in them: taken back out), each province's
        -- row by its key (the table keeps dead row versions for a while: a scan reads them
        -- all).
        IF sums IS NULL OR sums_seq IS DISTINCT FROM n THEN
            SELECT ARRAY[count(*), sum(x[2]), sum(x[3]), sum(x[4]), sum(x[5]), sum(x[6]),
                         sum(x[7]), sum(x[8]), sum(x[9]), sum(x[10]), sum(x[11])]::bigint[]
              INTO sums
              FROM provinces p, LATERAL (
                  SELECT national_part(s.voted, s.registered, s.areas_done, s.areas_total,
                                       s.revote_units, s.revote_units_public) AS x
                  FROM province_state s WHERE s.code = p.code LIMIT 1) ps;
            sums := national_moved(sums, moved_sum, zero);
        END IF;
    END IF;
    i := 0;
    FOR it IN SELECT value FROM jsonb_array_elements(items) LOOP
        i := i + 1;
        IF outs[i] = 'later' THEN
            -- the reports before it written first: its checks (and a re-vote's province)
            -- read the log
            PERFORM save_reports(items, unsaved, seqs);
            unsaved := array_fill(false, ARRAY[k]);
            chk := report_refusal(it);
            IF chk.outcome IS NOT NULL THEN
                outs[i] := chk.outcome;
                seqs[i] := chk.seq;
                details[i] := chk.detail;
            ELSE
                n := n + 1;
                seqs[i] := n;
                INSERT INTO reports (id, seq, province, kind, as_of, data, voted, registered,
                                     turnout_pct, correction, audience, token_id)
                VALUES ((it->>'id')::uuid, n, it->>'province', it->>'kind',
                        (it->>'as_of')::timestamptz, it->'data', (it->>'voted')::bigint,
                        (it->>'registered')::bigint, (it->>'turnout_pct')::double precision,
                        (it->>'correction')::boolean, it->>'audience',
                        (it->>'token_id')::bigint);
                SELECT * INTO st FROM province_state s WHERE s.code = it->>'province';
                moved := province_after(
                    it, it->>'kind' NOT IN ('turnout', 'completion', 'security', 'note'), st);
                UPDATE province_state s
                   SET public = moved.public, internal = moved.internal,
                       voted = (moved.internal->>'voted')::bigint,
                       registered = (moved.internal->>'registered')::bigint,
                       areas_done = (moved.internal->>'areas_done')::bigint,
                       areas_total = (moved.internal->>'areas_total')::bigint,
                       revote_units = (moved.internal->>'revote_units')::bigint,
                       revote_units_public = (moved.public->>'revote_units')::bigint
                 WHERE s.code = st.code;
                events[i] := event_text(it);
                pubs[i] := moved.public::text;
                ints[i] := moved.internal::text;
                delta := national_moved(zero, moved.before, moved.after);
            END IF;
        ELSIF outs[i] = 'ready' THEN
            n := n + 1;
            seqs[i] := n;
            unsaved[i] := true;
            delta := deltas[(i - 1) * 11 + 1 : i * 11];
        END IF;
        IF outs[i] IN ('ready', 'later') THEN
            sums := national_moved(sums, zero, delta);
            internal_frames[i] := feed_text(n, n - 1, events[i], national_json(sums, false),
                                            ints[i], rehearsal);
            IF it->>'audience' = 'public' THEN
                public_prevs[i] := pub_seq;
                public_frames[i] := feed_text(n, pub_seq, events[i], national_json(sums, true),
                                              pubs[i], rehearsal);
                pub_seq := n;
            END IF;
            outs[i] := 'accepted';
        END IF;
    END LOOP;
    PERFORM save_reports(items, unsaved, seqs);
    IF 'accepted' = ANY (outs) THEN
        INSERT INTO feed (seq, public_prev, public, internal)
        SELECT u.seq, u.prev, u.pub, u.int_
          FROM unnest(outs, seqs, public_prevs, public_frames, internal_frames)
               AS u(outcome, seq, prev, pub, int_)
         WHERE u.outcome = 'accepted'
         ORDER BY u.seq;
        UPDATE counter SET seq = n, public_seq = pub_seq, national = sums, national_seq = n;
        PERFORM pg_notify('votewire_feed', n::text);
    END IF;
    FOR j IN 1..k LOOP
        outcome := outs[j];
        seq := seqs[j];
        detail := details[j];
        RETURN NEXT;
    END LOOP;
END
$$;

-- Each accepted report rewrites its province's row (two entries, ~1 KB), and the row
-- versions a batch leaves behind stay visible to the transactions that overlap it (the
-- other writers' batches, an ANALYZE of the growing log) for a while: with three or four
-- rows a page (fillfactor 50, migrations/009) the new versions soon found no room on their
-- page and the table grew from 20 to 400 pages within 30,000 reports. One row a page, with
-- room for its next versions; the table rewritten so now.
ALTER TABLE province_state SET (fillfactor = 10);
CLUSTER province_state USING province_state_pkey;
