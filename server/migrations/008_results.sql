-- Results (contract v1.1 §5): the count by electoral unit, in the same log, seq and feed as
-- every other report.
--
-- Who is elected has one definition, `ingest.law.decide` (Python). So the writer, in the
-- accepting transaction, does: `accept_result` (the checks of history and the insert, under
-- the same locks as `accept_report`) → the law in Python over the unit's rows it returns →
-- `record_result` (the unit's new entries, then the usual `record_change`, whose feed frames
-- carry the unit and the national summary). SQL never decides who is elected: it stores each
-- unit's entry per audience and adds up the units' tallies (each tally is
-- `ingest.results_view.results_summary` of that one unit; every field is a count, so the
-- national summary is their sum).

-- Each unit's §5 entry and tally, per audience, as the law gave them after the last change.
CREATE TABLE unit_state (
    code            text NOT NULL REFERENCES provinces,
    unit            int NOT NULL,
    seats           int NOT NULL CHECK (seats > 0),
    waiting         jsonb NOT NULL,  -- the entry (and tally below) with no result
    waiting_tally   jsonb NOT NULL,
    public          jsonb NOT NULL,
    internal        jsonb NOT NULL,
    public_tally    jsonb NOT NULL,
    internal_tally  jsonb NOT NULL,
    PRIMARY KEY (code, unit)
);

CREATE INDEX reports_results ON reports (province, ((data->>'unit')::int), as_of DESC, seq DESC)
    WHERE kind = 'result' AND NOT retracted;

-- The National Election Council's decisions on winners (§5 confirmation): one row per
-- decision sent (a repeat of the latest decision stores nothing). `seq` is NULL only inside
-- the recording transaction.
CREATE TABLE confirmations (
    id          uuid PRIMARY KEY,
    seq         bigint UNIQUE,
    candidate   text NOT NULL,
    code        text NOT NULL REFERENCES provinces,
    unit        int NOT NULL,
    confirmed   boolean NOT NULL,
    source      text NOT NULL,
    as_of       timestamptz NOT NULL,
    token_id    bigint REFERENCES tokens,
    actor       text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX confirmations_by_candidate ON confirmations (candidate, as_of DESC, seq DESC);

-- Units' tallies added up: the national `summary` of §5 (every field is a count).
CREATE FUNCTION tally_sum(tallies jsonb[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    WITH t AS (SELECT j FROM unnest(tallies) AS j)
    SELECT coalesce((SELECT jsonb_object_agg(key, total) FROM (
               SELECT e.key, sum(e.value::bigint) AS total
               FROM t, jsonb_each_text(t.j - 'composition') e GROUP BY e.key) a), '{}')
        || jsonb_build_object('composition', coalesce((SELECT jsonb_object_agg(key, total) FROM (
               SELECT e.key, sum(e.value::bigint) AS total
               FROM t, jsonb_each_text(t.j->'composition') e GROUP BY e.key) b), '{}'))
$$;

-- A tally with every count negated (to take a unit's old tally out of the total).
CREATE FUNCTION tally_negated(t jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT jsonb_object_agg(e.key, -(e.value::bigint))
                     FROM jsonb_each_text(t - 'composition') e), '{}')
        || jsonb_build_object('composition', coalesce((SELECT jsonb_object_agg(e.key, -(e.value::bigint))
                     FROM jsonb_each_text(t->'composition') e), '{}'))
$$;

-- The national summary for one audience, summed over every unit's stored tally (at the
-- seed and after a reset; each change then adds its unit's difference to `results_total`).
CREATE FUNCTION results_summary(for_editors boolean) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT tally_sum(array_agg(CASE WHEN for_editors THEN s.internal_tally ELSE s.public_tally END))
    FROM unit_state s
$$;

-- The national summary now, per audience: the sum of the units' tallies, kept by adding each
-- change's difference (O(1) under the counter's lock instead of a sum over every unit).
CREATE TABLE results_total (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    public    jsonb NOT NULL,
    internal  jsonb NOT NULL
);
INSERT INTO results_total VALUES (true, '{}', '{}');

-- The rows the law needs for one unit, as of `at` (infinity: now): the latest result per
-- audience (corrections are later rows; the row being inserted, seq NULL, is the newest)
-- and each candidate's latest decision of the Council.
CREATE FUNCTION unit_rows(p text, u int, at timestamptz,
                          OUT latest_public jsonb, OUT latest_internal jsonb,
                          OUT decisions jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT jsonb_build_object('as_of', r.as_of, 'data', r.data) INTO latest_internal
    FROM reports r
    WHERE r.province = p AND r.kind = 'result' AND (r.data->>'unit')::int = u
      AND NOT r.retracted AND r.as_of <= at
    ORDER BY r.as_of DESC, r.seq DESC NULLS FIRST LIMIT 1;
    SELECT jsonb_build_object('as_of', r.as_of, 'data', r.data) INTO latest_public
    FROM reports r
    WHERE r.province = p AND r.kind = 'result' AND (r.data->>'unit')::int = u
      AND NOT r.retracted AND r.as_of <= at AND r.audience = 'public'
    ORDER BY r.as_of DESC, r.seq DESC NULLS FIRST LIMIT 1;
    SELECT coalesce(jsonb_object_agg(d.candidate, d.confirmed), '{}') INTO decisions FROM (
        SELECT DISTINCT ON (c.candidate) c.candidate, c.confirmed
        FROM confirmations c
        WHERE c.code = p AND c.unit = u AND c.as_of <= at
        ORDER BY c.candidate, c.as_of DESC, c.seq DESC NULLS FIRST
    ) d;
END
$$;

-- The same for every unit at once (a results body at a moment): the latest result per unit
-- for the audience, and every decision.
CREATE FUNCTION results_rows(at timestamptz, for_editors boolean,
                             OUT latest jsonb, OUT decisions jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT coalesce(jsonb_object_agg(x.key, x.row), '{}') INTO latest FROM (
        SELECT DISTINCT ON (r.province, (r.data->>'unit')::int)
               r.province || '-' || (r.data->>'unit') AS key,
               jsonb_build_object('as_of', r.as_of, 'data', r.data) AS row
        FROM reports r
        WHERE r.kind = 'result' AND NOT r.retracted AND r.as_of <= at
          AND (for_editors OR r.audience = 'public')
        ORDER BY r.province, (r.data->>'unit')::int, r.as_of DESC, r.seq DESC NULLS FIRST
    ) x;
    SELECT coalesce(jsonb_object_agg(d.candidate, d.confirmed), '{}') INTO decisions FROM (
        SELECT DISTINCT ON (c.candidate) c.candidate, c.confirmed
        FROM confirmations c
        WHERE c.as_of <= at
        ORDER BY c.candidate, c.as_of DESC, c.seq DESC NULLS FIRST
    ) d;
END
$$;

-- Accept one validated result: the same locks and answers as `accept_report` (the token's
-- revocation, the id, the province's state row, history, rate), with the result's history:
-- after a `final` nothing without `correction`, and a provisional count never below the
-- latest one not after it. On 'accepted' the row is inserted with seq NULL and the unit's
-- rows (`unit_rows`) are returned for the law; `record_result` finishes the change.
CREATE FUNCTION accept_result(
    r_id uuid, r_province text, r_as_of timestamptz, r_data jsonb, r_correction boolean,
    r_audience text, r_token bigint, rate_ok boolean,
    OUT outcome text, OUT seq bigint, OUT detail jsonb,
    OUT latest_public jsonb, OUT latest_internal jsonb, OUT decisions jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    old reports%ROWTYPE;
    prev record;
    u int := (r_data->>'unit')::int;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7472005);
    PERFORM 1 FROM tokens WHERE id = r_token AND revoked_at IS NOT NULL;
    IF FOUND THEN
        outcome := 'revoked';
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(r_id::text, 0));
    SELECT * INTO old FROM reports WHERE id = r_id;
    IF FOUND THEN
        seq := old.seq;
        IF old.province = r_province AND old.kind = 'result' AND old.as_of = r_as_of
           AND old.data = r_data THEN
            outcome := 'duplicate';
        ELSE
            outcome := 'conflict';
        END IF;
        RETURN;
    END IF;
    PERFORM 1 FROM province_state WHERE code = r_province FOR UPDATE;
    IF NOT r_correction THEN
        SELECT r.as_of INTO prev FROM reports r
        WHERE r.province = r_province AND r.kind = 'result' AND (r.data->>'unit')::int = u
          AND NOT r.retracted AND r.data->>'stage' = 'final'
        ORDER BY r.as_of DESC, r.seq DESC LIMIT 1;
        IF FOUND THEN
            outcome := 'regression';
            detail := jsonb_build_object('field', 'data.stage', 'as_of', prev.as_of);
            RETURN;
        END IF;
        IF coalesce(r_data->>'stage', 'provisional') = 'provisional' THEN
            SELECT (r.data->>'ballots_valid')::bigint AS valid, r.as_of INTO prev FROM reports r
            WHERE r.province = r_province AND r.kind = 'result' AND (r.data->>'unit')::int = u
              AND NOT r.retracted AND r.as_of <= r_as_of
            ORDER BY r.as_of DESC, r.seq DESC LIMIT 1;
            IF FOUND AND (r_data->>'ballots_valid')::bigint < prev.valid THEN
                outcome := 'regression';
                detail := jsonb_build_object('field', 'data.ballots_valid', 'as_of', prev.as_of,
                                             'valid', prev.valid);
                RETURN;
            END IF;
        END IF;
    END IF;
    IF NOT rate_ok THEN
        outcome := 'rate_limited';
        RETURN;
    END IF;
    INSERT INTO reports (id, province, kind, as_of, data, correction, audience, token_id)
    VALUES (r_id, r_province, 'result', r_as_of, r_data, r_correction, r_audience, r_token);
    SELECT w.latest_public, w.latest_internal, w.decisions
      INTO latest_public, latest_internal, decisions
      FROM unit_rows(r_province, u, 'infinity') w;
    outcome := 'accepted';
END
$$;

-- Finish a change of one unit (a result accepted, published or retracted; a decision of the
-- Council): store the unit's entries and tallies the law gave, add the tallies' difference
-- to the national totals (whose row lock, like the counter's, orders concurrent changes; it
-- is always taken before the counter), then the usual change of the province's picture
-- under the counter's lock, its feed frames carrying `unit` and `results`. Sets the seq on
-- the accepted report (`report`, NULL for the other changes). Returns the seq.
CREATE FUNCTION record_result(
    p text, u int, event jsonb, visible boolean, rehearsal boolean,
    pub_entry jsonb, int_entry jsonb, pub_tally jsonb, int_tally jsonb, report uuid)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    old unit_state%ROWTYPE;
    n bigint;
BEGIN
    SELECT * INTO old FROM unit_state WHERE code = p AND unit = u;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unit %-% is not in unit_state', p, u;
    END IF;
    UPDATE unit_state
       SET public = pub_entry, internal = int_entry,
           public_tally = pub_tally, internal_tally = int_tally
     WHERE code = p AND unit = u;
    UPDATE results_total
       SET public = tally_sum(ARRAY[public, pub_tally, tally_negated(old.public_tally)]),
           internal = tally_sum(ARRAY[internal, int_tally, tally_negated(old.internal_tally)]);
    n := record_change_with(p, event, visible, rehearsal, true);
    IF report IS NOT NULL THEN
        UPDATE reports SET seq = n WHERE id = report;
    END IF;
    RETURN n;
END
$$;

-- `record_change` (migrations/007) with, when `results` is true, the unit's entry and the
-- national summary in each audience's frame.
CREATE FUNCTION record_change_with(
    p text, event jsonb, visible boolean, rehearsal boolean, results boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c counter%ROWTYPE;
    pub jsonb;
    int_ jsonb;
    nat jsonb;
    nat_pub jsonb;
    pub_revotes bigint;
    extra_pub jsonb := '{}';
    extra_int jsonb := '{}';
    n bigint;
BEGIN
    SELECT e.public, e.internal INTO pub, int_ FROM province_entries(p, 'infinity') e;
    UPDATE province_state
       SET public = pub, internal = int_,
           voted = (int_->>'voted')::bigint, registered = (int_->>'registered')::bigint,
           areas_done = (int_->>'areas_done')::bigint,
           areas_total = (int_->>'areas_total')::bigint,
           revote_units = (int_->>'revote_units')::bigint,
           revote_units_public = (pub->>'revote_units')::bigint
     WHERE code = p;
    SELECT * INTO c FROM counter FOR UPDATE;
    n := c.seq + 1;
    SELECT national_from(array_agg(s.voted), array_agg(s.registered), array_agg(s.areas_done),
                         array_agg(s.areas_total), array_agg(s.revote_units)),
           coalesce(sum(s.revote_units_public), 0)
      INTO nat, pub_revotes FROM province_state s;
    nat_pub := nat || jsonb_build_object('revote_units', pub_revotes);
    IF results THEN
        SELECT jsonb_build_object('unit', s.public, 'results', t.public),
               jsonb_build_object('unit', s.internal, 'results', t.internal)
          INTO extra_pub, extra_int
          FROM unit_state s, results_total t
         WHERE s.code = p AND s.unit = (event->'data'->>'unit')::int;
    END IF;
    INSERT INTO feed (seq, public_prev, public, internal) VALUES (
        n,
        CASE WHEN visible THEN c.public_seq END,
        CASE WHEN visible THEN (jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.public_seq, 'event', event,
            'province', pub, 'national', nat_pub, 'rehearsal', rehearsal) || extra_pub)::text END,
        (jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.seq, 'event', event,
            'province', int_, 'national', nat, 'rehearsal', rehearsal) || extra_int)::text);
    UPDATE counter SET seq = n, public_seq = CASE WHEN visible THEN n ELSE c.public_seq END;
    PERFORM pg_notify('votewire_feed', n::text);
    RETURN n;
END
$$;

-- One body of code for every change: `record_change` is `record_change_with` without results.
CREATE OR REPLACE FUNCTION record_change(p text, event jsonb, visible boolean, rehearsal boolean)
RETURNS bigint LANGUAGE sql AS $$
    SELECT record_change_with(p, event, visible, rehearsal, false)
$$;

-- As in migrations/007, with results publishable, and an action on a result left for the
-- writer to finish (outcome 'recompute': the row is changed, the law and the change follow
-- in `server.store.results`, which also writes the audit row).
CREATE OR REPLACE FUNCTION apply_action(
    a_report uuid, a_action text, a_token bigint, a_actor text, a_why text, rehearsal boolean,
    OUT outcome text, OUT seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r reports%ROWTYPE;
    visible boolean;
    event jsonb;
BEGIN
    SELECT * INTO r FROM reports WHERE id = a_report;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    PERFORM 1 FROM province_state WHERE code = r.province FOR UPDATE;
    SELECT * INTO r FROM reports WHERE id = a_report;
    IF a_action = 'publish' AND r.kind NOT IN ('security', 'note', 'revote', 'result') THEN
        outcome := 'not_publishable';
        RETURN;
    END IF;
    IF (a_action = 'publish' AND r.audience = 'public') OR (a_action = 'retract' AND r.retracted)
       OR (a_action = 'verify' AND r.verified) THEN
        outcome := 'no_change';
        RETURN;
    END IF;
    visible := r.audience = 'public' AND a_action = 'retract' OR a_action = 'publish';
    IF a_action = 'publish' THEN
        UPDATE reports SET audience = 'public' WHERE id = a_report;
    ELSIF a_action = 'retract' THEN
        UPDATE reports SET retracted = true WHERE id = a_report;
    ELSIF a_action = 'verify' THEN
        UPDATE reports SET verified = true WHERE id = a_report;
    END IF;
    IF r.kind = 'result' AND a_action IN ('publish', 'retract') THEN
        outcome := 'recompute';
        RETURN;
    END IF;
    event := jsonb_build_object('id', r.id, 'kind', r.kind, 'as_of', r.as_of,
                                'province', r.province, 'data', r.data, 'action', a_action);
    seq := record_change(r.province, event, visible, rehearsal);
    INSERT INTO actions (seq, report_id, action, token_id, actor, why)
    VALUES (seq, a_report, a_action, a_token, a_actor, a_why);
    outcome := 'done';
END
$$;
