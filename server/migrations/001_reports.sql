-- The report log, the current picture per province, the live feed and tokens.
-- Every accepted change takes the next `seq` from `counter` in its own transaction: the
-- row lock serialises writers, so seq order is commit order and the feed has no gaps.

CREATE TABLE provinces (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    name_en     text NOT NULL,
    region      text NOT NULL,
    registered  bigint NOT NULL CHECK (registered > 0)
);

CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('bureau', 'editor', 'admin')),
    province    text REFERENCES provinces,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'bureau') = (province IS NOT NULL))
);

CREATE TABLE counter (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq         bigint NOT NULL,
    public_seq  bigint NOT NULL
);
INSERT INTO counter VALUES (true, 0, 0);

-- `seq` is NULL only inside the accepting transaction, before the counter is taken.
CREATE TABLE reports (
    id           uuid PRIMARY KEY,
    seq          bigint UNIQUE,
    province     text NOT NULL REFERENCES provinces,
    kind         text NOT NULL,
    as_of        timestamptz NOT NULL,
    data         jsonb NOT NULL,
    voted        bigint,
    registered   bigint,
    turnout_pct  double precision,
    correction   boolean NOT NULL DEFAULT false,
    audience     text NOT NULL CHECK (audience IN ('public', 'internal')),
    token_id     bigint REFERENCES tokens,
    received_at  timestamptz NOT NULL DEFAULT now(),
    retracted    boolean NOT NULL DEFAULT false
);
CREATE INDEX reports_by_kind ON reports (province, kind, as_of DESC, seq DESC) WHERE NOT retracted;
CREATE INDEX reports_by_time ON reports (province, as_of DESC) WHERE NOT retracted;

-- The picture now: one entry per province and audience, rewritten in each accepting transaction.
CREATE TABLE province_state (
    code         text PRIMARY KEY REFERENCES provinces,
    public       jsonb NOT NULL,
    internal     jsonb NOT NULL,
    -- the figures national_from sums, copied from the entry (the same for both audiences)
    voted        bigint,
    registered   bigint,
    areas_done   bigint,
    areas_total  bigint,
    revote_units bigint NOT NULL DEFAULT 0
);

-- Every accepted change as the encoded frames the live feed sends (public is NULL when the
-- change is not visible to the public). `since=` replays from here.
CREATE TABLE feed (
    seq          bigint PRIMARY KEY,
    public_prev  bigint,
    public       text,
    internal     text NOT NULL
);

CREATE FUNCTION severity_rank(s text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 'info' THEN 1 WHEN 'watch' THEN 2 WHEN 'incident' THEN 3 END
$$;

-- One province's entries of the picture at `at` (protocol §2), for the public and for
-- editors (internal): the latest accepted figure of each kind whose as_of is at or before
-- `at`. PL/pgSQL so that its plans are cached per connection.
CREATE FUNCTION province_entries(p text, at timestamptz, OUT public jsonb, OUT internal jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pr provinces%ROWTYPE;
    t record;
    c jsonb;
    revotes bigint;
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
    SELECT count(*) INTO revotes FROM (
        SELECT DISTINCT ON (r.data->>'level', lower(r.data->>'unit')) r.data->>'status' AS status
        FROM reports r
        WHERE r.province = p AND r.kind = 'revote' AND NOT r.retracted AND r.as_of <= at
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
        'units_total', (c->>'units_total')::bigint,
        'revote_units', revotes);
    public := base || jsonb_build_object(
        'security_level', CASE sec_pub WHEN 1 THEN 'info' WHEN 2 THEN 'watch' WHEN 3 THEN 'incident' END,
        'last_report_at', last_pub);
    internal := base || jsonb_build_object(
        'security_level', CASE sec_all WHEN 1 THEN 'info' WHEN 2 THEN 'watch' WHEN 3 THEN 'incident' END,
        'last_report_at', last_all);
END
$$;

CREATE FUNCTION province_entry(p text, at timestamptz, internal boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN $3 THEN e.internal ELSE e.public END FROM province_entries($1, $2) e
$$;

-- The national figures: the one definition of national turnout (Σ voted / Σ registered over
-- the provinces that reported turnout), from the provinces' figures as parallel arrays.
CREATE FUNCTION national_from(
    voted bigint[], registered bigint[], areas_done bigint[], areas_total bigint[],
    revotes bigint[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'voted', sum(v),
        'registered', sum(r) FILTER (WHERE v IS NOT NULL),
        'turnout_pct', sum(v)::float8 / nullif(sum(r) FILTER (WHERE v IS NOT NULL), 0) * 100,
        'provinces_reporting', count(*) FILTER (WHERE v IS NOT NULL),
        'provinces_total', count(*),
        'areas_done', sum(d),
        'areas_total', sum(t),
        'revote_units', coalesce(sum(rv), 0))
    FROM unnest(voted, registered, areas_done, areas_total, revotes) AS u(v, r, d, t, rv)
$$;

-- The same from a picture's province entries (jsonb array).
CREATE FUNCTION national_of(entries jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT national_from(
        array_agg((e->>'voted')::bigint), array_agg((e->>'registered')::bigint),
        array_agg((e->>'areas_done')::bigint), array_agg((e->>'areas_total')::bigint),
        array_agg((e->>'revote_units')::bigint))
    FROM jsonb_array_elements(entries) e
$$;

-- The picture at `at` (NULL = now, read from province_state) for one audience.
CREATE FUNCTION picture(p_at timestamptz, p_internal boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH entries AS (
        SELECT CASE WHEN p_at IS NULL THEN CASE WHEN p_internal THEN s.internal ELSE s.public END
                    ELSE province_entry(pr.code, p_at, p_internal) END AS e
        FROM provinces pr JOIN province_state s ON s.code = pr.code
    ), arr AS (SELECT jsonb_agg(e ORDER BY e->>'code') AS a FROM entries)
    SELECT jsonb_build_object('national', national_of(a), 'provinces', a) FROM arr
$$;

-- Publish one change of a province's picture: refresh its state (outside the global lock),
-- then under the counter's row lock take the next seq, compute the national figures and
-- write the feed row (an encoded frame per audience), and NOTIFY the seq. The caller's
-- transaction must already hold the province's state row lock.
CREATE FUNCTION record_change(p text, event jsonb, visible boolean, rehearsal boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c counter%ROWTYPE;
    pub jsonb;
    int_ jsonb;
    nat jsonb;
    n bigint;
BEGIN
    SELECT e.public, e.internal INTO pub, int_ FROM province_entries(p, 'infinity') e;
    UPDATE province_state
       SET public = pub, internal = int_,
           voted = (int_->>'voted')::bigint, registered = (int_->>'registered')::bigint,
           areas_done = (int_->>'areas_done')::bigint,
           areas_total = (int_->>'areas_total')::bigint,
           revote_units = (int_->>'revote_units')::bigint
     WHERE code = p;
    SELECT * INTO c FROM counter FOR UPDATE;
    n := c.seq + 1;
    SELECT national_from(array_agg(s.voted), array_agg(s.registered), array_agg(s.areas_done),
                         array_agg(s.areas_total), array_agg(s.revote_units))
      INTO nat FROM province_state s;
    INSERT INTO feed (seq, public_prev, public, internal) VALUES (
        n,
        CASE WHEN visible THEN c.public_seq END,
        CASE WHEN visible THEN jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.public_seq, 'event', event,
            'province', pub, 'national', nat, 'rehearsal', rehearsal)::text END,
        jsonb_build_object(
            'type', 'update', 'seq', n, 'prev', c.seq, 'event', event,
            'province', int_, 'national', nat, 'rehearsal', rehearsal)::text);
    UPDATE counter SET seq = n, public_seq = CASE WHEN visible THEN n ELSE c.public_seq END;
    PERFORM pg_notify('votewire_feed', n::text);
    RETURN n;
END
$$;

-- Accept one validated report. Outcomes: accepted, duplicate, conflict (same id, other
-- content), regression (detail = the figure it would undercut), rate_limited.
-- Locks, always in this order: the id (advisory), the province's state row, the counter.
CREATE FUNCTION accept_report(
    r_id uuid, r_province text, r_kind text, r_as_of timestamptz, r_data jsonb,
    r_voted bigint, r_registered bigint, r_pct double precision, r_correction boolean,
    r_audience text, r_token bigint, rate_ok boolean, rehearsal boolean,
    OUT outcome text, OUT seq bigint, OUT detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    old reports%ROWTYPE;
    prev record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(r_id::text, 0));
    SELECT * INTO old FROM reports WHERE id = r_id;
    IF FOUND THEN
        seq := old.seq;
        IF old.province = r_province AND old.kind = r_kind AND old.as_of = r_as_of
           AND old.data = r_data THEN
            outcome := 'duplicate';
        ELSE
            outcome := 'conflict';
        END IF;
        RETURN;
    END IF;
    PERFORM 1 FROM province_state WHERE code = r_province FOR UPDATE;
    IF r_kind = 'turnout' AND NOT r_correction THEN
        SELECT t.voted, t.as_of INTO prev FROM reports t
        WHERE t.province = r_province AND t.kind = 'turnout' AND NOT t.retracted
          AND t.as_of <= r_as_of
        ORDER BY t.as_of DESC, t.seq DESC LIMIT 1;
        IF FOUND AND r_voted < prev.voted THEN
            outcome := 'regression';
            detail := jsonb_build_object('voted', prev.voted, 'as_of', prev.as_of);
            RETURN;
        END IF;
    END IF;
    IF NOT rate_ok THEN
        outcome := 'rate_limited';
        RETURN;
    END IF;
    INSERT INTO reports (id, province, kind, as_of, data, voted, registered, turnout_pct,
                         correction, audience, token_id)
    VALUES (r_id, r_province, r_kind, r_as_of, r_data, r_voted, r_registered, r_pct,
            r_correction, r_audience, r_token);
    seq := record_change(
        r_province,
        jsonb_build_object('id', r_id, 'kind', r_kind, 'as_of', r_as_of,
                           'province', r_province, 'data', r_data),
        r_audience = 'public',
        rehearsal);
    UPDATE reports SET seq = accept_report.seq WHERE id = r_id;
    outcome := 'accepted';
END
$$;

-- Several reports in one transaction and one round trip (one commit, one fsync for all):
-- each item gets its own outcome, a refused item stores nothing and does not stop the rest.
CREATE FUNCTION accept_batch(items jsonb, rehearsal boolean)
RETURNS TABLE (outcome text, seq bigint, detail jsonb) LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    r record;
BEGIN
    FOR it IN SELECT value FROM jsonb_array_elements(items) LOOP
        SELECT * INTO r FROM accept_report(
            (it->>'id')::uuid, it->>'province', it->>'kind', (it->>'as_of')::timestamptz,
            it->'data', (it->>'voted')::bigint, (it->>'registered')::bigint,
            (it->>'turnout_pct')::double precision, (it->>'correction')::boolean,
            it->>'audience', (it->>'token_id')::bigint, (it->>'rate_ok')::boolean, rehearsal);
        outcome := r.outcome;
        seq := r.seq;
        detail := r.detail;
        RETURN NEXT;
    END LOOP;
END
$$;
