-- A re-vote may be internal (contract v1.1 §1: `audience`, `public` by default): the whole
-- re-vote stays off public screens until an editor publishes it. So the public and the
-- editors' pictures count re-vote units apart, and the national figures of a public update
-- are summed from the public counts.

ALTER TABLE province_state ADD COLUMN revote_units_public bigint NOT NULL DEFAULT 0;

-- As in migrations/001, with the re-vote units counted per audience: a unit's latest report
-- among those the reader may see decides its status.
CREATE OR REPLACE FUNCTION province_entries(p text, at timestamptz, OUT public jsonb, OUT internal jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pr provinces%ROWTYPE;
    t record;
    c jsonb;
    revotes_all bigint;
    revotes_pub bigint;
    sec_all int;
    sec_pub int;
    last_all timestamptz;
    last_pub timestamptz;
    base jsonb;
BEGIN
    SELECT * INTO pr FROM provinces WHERE code = p;
    SELECT r.voted, r.registered, r.turnout_pct, r.as_of INTO t FROM reports r
    WHERE r.province = p AND r.kind = 'turnout' AND NOT r.retracted AND r.as_of <= at
    ORDER BY r.as_of DESC, r.seq DESC LIMIT 1;
    SELECT r.data INTO c FROM reports r
    WHERE r.province = p AND r.kind = 'completion' AND NOT r.retracted AND r.as_of <= at
    ORDER BY r.as_of DESC, r.seq DESC LIMIT 1;
    SELECT count(*) INTO revotes_all FROM (
        SELECT DISTINCT ON (r.data->>'level', lower(r.data->>'unit')) r.data->>'status' AS status
        FROM reports r
        WHERE r.province = p AND r.kind = 'revote' AND NOT r.retracted AND r.as_of <= at
        ORDER BY r.data->>'level', lower(r.data->>'unit'), r.as_of DESC, r.seq DESC
    ) u WHERE u.status IS DISTINCT FROM 'cancelled';
    SELECT count(*) INTO revotes_pub FROM (
        SELECT DISTINCT ON (r.data->>'level', lower(r.data->>'unit')) r.data->>'status' AS status
        FROM reports r
        WHERE r.province = p AND r.kind = 'revote' AND NOT r.retracted AND r.as_of <= at
          AND r.audience = 'public'
        ORDER BY r.data->>'level', lower(r.data->>'unit'), r.as_of DESC, r.seq DESC
    ) u WHERE u.status IS DISTINCT FROM 'cancelled';
    SELECT max(severity_rank(r.data->>'severity')),
           max(severity_rank(r.data->>'severity')) FILTER (WHERE r.audience = 'public')
      INTO sec_all, sec_pub FROM reports r
    WHERE r.province = p AND r.kind = 'security' AND NOT r.retracted AND r.as_of <= at;
    SELECT max(r.as_of) INTO last_all FROM reports r
    WHERE r.province = p AND NOT r.retracted AND r.as_of <= at;
    SELECT max(r.as_of) INTO last_pub FROM reports r
    WHERE r.province = p AND NOT r.retracted AND r.as_of <= at AND r.audience = 'public';
    base := jsonb_build_object(
        'code', pr.code, 'name', pr.name, 'name_en', pr.name_en, 'region', pr.region,
        'voted', t.voted, 'registered', t.registered, 'turnout_pct', t.turnout_pct,
        'as_of', t.as_of,
        'areas_done', (c->>'areas_done')::bigint,
        'areas_total', (c->>'areas_total')::bigint,
        'units_done', (c->>'units_done')::bigint,
        'units_total', (c->>'units_total')::bigint);
    public := base || jsonb_build_object(
        'revote_units', revotes_pub,
        'security_level', CASE sec_pub WHEN 1 THEN 'info' WHEN 2 THEN 'watch' WHEN 3 THEN 'incident' END,
        'last_report_at', last_pub);
    internal := base || jsonb_build_object(
        'revote_units', revotes_all,
        'security_level', CASE sec_all WHEN 1 THEN 'info' WHEN 2 THEN 'watch' WHEN 3 THEN 'incident' END,
        'last_report_at', last_all);
END
$$;

-- As in migrations/001, with the public update's national figures summed from the public
-- re-vote counts (every other national figure is the same for both audiences).
CREATE OR REPLACE FUNCTION record_change(p text, event jsonb, visible boolean, rehearsal boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c counter%ROWTYPE;
    pub jsonb;
    int_ jsonb;
    nat jsonb;
    nat_pub jsonb;
    pub_revotes bigint;
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
    -- Under the counter's lock (every change waits here): one aggregate, the public
    -- national figures differ only by their re-vote count.
    SELECT national_from(array_agg(s.voted), array_agg(s.registered), array_agg(s.areas_done),
                         array_agg(s.areas_total), array_agg(s.revote_units)),
           coalesce(sum(s.revote_units_public), 0)
      INTO nat, pub_revotes FROM province_state s;
    nat_pub := nat || jsonb_build_object('revote_units', pub_revotes);
    INSERT INTO feed (seq, public_prev, public, internal) VALUES (
        n,
        CASE WHEN visible THEN c.public_seq END,
        CASE WHEN visible THEN jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.public_seq, 'event', event,
            'province', pub, 'national', nat_pub, 'rehearsal', rehearsal)::text END,
        jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.seq, 'event', event,
            'province', int_, 'national', nat, 'rehearsal', rehearsal)::text);
    UPDATE counter SET seq = n, public_seq = CASE WHEN visible THEN n ELSE c.public_seq END;
    PERFORM pg_notify('votewire_feed', n::text);
    RETURN n;
END
$$;

-- As in migrations/002, with re-votes publishable too (they have an audience since v1.1).
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
    IF a_action = 'publish' AND r.kind NOT IN ('security', 'note', 'revote') THEN
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
    event := jsonb_build_object('id', r.id, 'kind', r.kind, 'as_of', r.as_of,
                                'province', r.province, 'data', r.data, 'action', a_action);
    seq := record_change(r.province, event, visible, rehearsal);
    INSERT INTO actions (seq, report_id, action, token_id, actor, why)
    VALUES (seq, a_report, a_action, a_token, a_actor, a_why);
    outcome := 'done';
END
$$;

UPDATE province_state s SET revote_units_public = (s.public->>'revote_units')::bigint;
