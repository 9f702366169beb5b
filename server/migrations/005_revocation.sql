-- Revocation that bites (issue 12): a revoked token's report is never acknowledged once the
-- revocation has committed, and every server process hears of the revocation at once.
--
-- The two transactions meet on the token's row:
-- - `revoke_tokens` locks the rows it revokes FOR UPDATE, in id order, then stamps
--   `revoked_at` with the clock *after* it holds them, and NOTIFYs 'revoke' on the feed's
--   channel (delivered at its commit);
-- - `accept_batch` locks its tokens' rows FOR NO KEY UPDATE, in id order, before anything
--   else, and refuses every report of a token it then finds revoked (outcome 'revoked').
-- So a batch that locked first commits before the revocation can stamp its time (its reports'
-- `received_at`, the batch's start, is earlier than `revoked_at`), and one that locked second
-- sees the revocation. The accepting side takes an exclusive lock (not a share lock) so a
-- stream of batches cannot starve a waiting revocation: waiters queue in order. Bureau
-- batches already serialise on the province's state row, so this costs them nothing.

CREATE FUNCTION revoke_tokens(by_hash bytea, by_province text, by_id bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(t.id) INTO ids FROM (
        SELECT id FROM tokens
        WHERE revoked_at IS NULL
          AND (hash = by_hash OR province = by_province OR id = by_id)
        ORDER BY id
        FOR UPDATE
    ) t;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE tokens SET revoked_at = clock_timestamp() WHERE id = ANY (ids);
    PERFORM pg_notify('votewire_feed', 'revoke');
    RETURN cardinality(ids);
END
$$;

-- As in migrations/001, with the token check first: a revoked token's report is refused
-- (outcome 'revoked', nothing stored), even an exact resend.
CREATE OR REPLACE FUNCTION accept_batch(items jsonb, rehearsal boolean)
RETURNS TABLE (outcome text, seq bigint, detail jsonb) LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    r record;
    revoked bigint[];
BEGIN
    SELECT coalesce(array_agg(t.id) FILTER (WHERE t.revoked_at IS NOT NULL), '{}') INTO revoked
    FROM (
        SELECT id, revoked_at FROM tokens
        WHERE id IN (SELECT (value->>'token_id')::bigint FROM jsonb_array_elements(items))
        ORDER BY id
        FOR NO KEY UPDATE
    ) t;
    FOR it IN SELECT value FROM jsonb_array_elements(items) LOOP
        IF (it->>'token_id')::bigint = ANY (revoked) THEN
            outcome := 'revoked';
            seq := NULL;
            detail := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
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
