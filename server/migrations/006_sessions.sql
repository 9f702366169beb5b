-- The editors' sessions, kept server-side so that signing out, revoking the token or
-- reaching the expiry ends a session in every process at once (each request looks its
-- session up here, joined with the token); and the sign-in attempts that limit guessing.

-- A desk session. The cookie carries a random id (signed); only its SHA-256 is kept here,
-- so reading this table gives no usable cookie. `id` is what logs name.
CREATE TABLE sessions (
    id          bigserial PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    token_id    bigint NOT NULL REFERENCES tokens,
    name        text CHECK (char_length(name) BETWEEN 1 AND 80 AND name !~ '[[:cntrl:]]'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX sessions_by_token ON sessions (token_id) WHERE ended_at IS NULL;

-- Sign-in attempts per client address within the last window: a row is written before the
-- token is looked up and deleted when the token was right, so the rows are the failures
-- (and the attempts in flight). Rows older than the window are pruned by the next attempt.
CREATE TABLE signin_attempts (
    id       bigserial PRIMARY KEY,
    address  text NOT NULL,
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX signin_attempts_by_address ON signin_attempts (address, at);
CREATE INDEX signin_attempts_by_time ON signin_attempts (at);

-- Charge one attempt to `addr` unless it already has `quota` in the last `per`: then
-- nothing is stored, `attempt` is NULL and `retry_after` is the seconds until the oldest
-- leaves the window. `used` counts the attempts in the window, this one included. The
-- per-address advisory lock makes check and charge one step, so concurrent guesses from
-- one address never exceed the quota.
CREATE FUNCTION signin_attempt(
    addr text, quota int, per interval,
    OUT attempt bigint, OUT used int, OUT retry_after double precision)
LANGUAGE plpgsql AS $$
DECLARE
    oldest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(7472012, hashtext(addr));
    DELETE FROM signin_attempts WHERE at < clock_timestamp() - per;
    SELECT count(*), min(a.at) INTO used, oldest FROM signin_attempts a WHERE a.address = addr;
    IF used >= quota THEN
        retry_after := greatest(extract(epoch FROM oldest + per - clock_timestamp()), 0);
        RETURN;
    END IF;
    INSERT INTO signin_attempts (address) VALUES (addr) RETURNING id INTO attempt;
    used := used + 1;
END
$$;
