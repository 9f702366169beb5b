-- Revocation that bites (issue 12): a revoked token's report is never acknowledged once the
-- revocation has committed, and every server process hears of the revocation at once.
--
-- The two transactions meet on one advisory lock (7472005), held to their commit:
-- - `accept_batch` takes it shared before anything else, then refuses every report of a
--   token it finds revoked (outcome 'revoked');
-- - `revoke_tokens` takes it exclusive, then stamps `revoked_at` with the clock *after* it
--   holds it, and NOTIFYs 'revoke' on the feed's channel (delivered at its commit).
-- So every batch that stored reports committed before the revocation could stamp its time
-- (its reports' `received_at`, the batch's start, is earlier than `revoked_at`), and one that
-- takes the lock after sees the revocation. Postgres queues a new shared request behind a
-- waiting exclusive one, so a stream of batches cannot starve a revocation. An advisory lock
-- lives in memory: unlike a row lock on `tokens` it writes nothing per batch (a row lock
-- cost bench.ingest about a third of its reports per second).

CREATE FUNCTION revoke_tokens(by_hash bytea, by_province text, by_id bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(7472005);
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
    PERFORM pg_advisory_xact_lock_shared(7472005);
    SELECT coalesce(array_agg(t.id), '{}') INTO revoked FROM tokens t
    WHERE t.revoked_at IS NOT NULL
      AND t.id IN (SELECT (value->>'token_id')::bigint FROM jsonb_array_elements(items));
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
