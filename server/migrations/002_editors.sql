-- Editors' actions on reports, and their audit log.
-- verify and annotate change no picture; publish (internal → public) and retract do. Every
-- action is a change of the feed (editors' desks update live); publish and the retraction
-- of a public report reach public viewers too.

CREATE TABLE actions (
    id          bigserial PRIMARY KEY,
    seq         bigint UNIQUE,
    report_id   uuid NOT NULL REFERENCES reports,
    action      text NOT NULL CHECK (action IN ('verify', 'publish', 'retract', 'annotate')),
    token_id    bigint REFERENCES tokens,
    actor       text,
    why         text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_by_report ON actions (report_id, id);

ALTER TABLE reports ADD COLUMN verified boolean NOT NULL DEFAULT false;

-- Outcomes: done (seq = the change), not_found, no_change (e.g. publishing a public item,
-- retracting a retracted one), not_publishable (only security notes and notes have an audience).
CREATE FUNCTION apply_action(
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
    IF a_action = 'publish' AND r.kind NOT IN ('security', 'note') THEN
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
