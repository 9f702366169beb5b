-- The election clock (contract §6): the replayed moment a demo, simulation or rehearsal has
-- set, kept here so that every server process agrees. No row = live (wall time in the
-- election's zone). `set_at` is the database's clock at the moment of setting: a process
-- runs the replay forward as clock + speed × (its wall time − set_at).
CREATE TABLE election_clock (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    clock    timestamptz NOT NULL,
    speed    double precision NOT NULL CHECK (speed >= 0),
    set_at   timestamptz NOT NULL,
    token_id bigint REFERENCES tokens
);

-- Set (or, with a NULL clock, clear) the clock, and wake every process's LISTEN connection
-- on the feed's channel with the payload 'clock'. Returns the stored row's set_at.
CREATE FUNCTION set_election_clock(c timestamptz, s double precision, t bigint)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    at_ timestamptz := clock_timestamp();
BEGIN
    IF c IS NULL THEN
        DELETE FROM election_clock;
    ELSE
        INSERT INTO election_clock (id, clock, speed, set_at, token_id)
        VALUES (true, c, s, at_, t)
        ON CONFLICT (id) DO UPDATE
            SET clock = EXCLUDED.clock, speed = EXCLUDED.speed,
                set_at = EXCLUDED.set_at, token_id = EXCLUDED.token_id;
    END IF;
    PERFORM pg_notify('votewire_feed', 'clock');
    RETURN at_;
END $$;
