-- The editors' desk: official figures recorded beside ours, and bureau photos awaiting an
-- editor's approval. Neither is a report: they take no `seq` and change no picture.

-- An official announcement (the National Election Council for the nation, a provincial
-- election committee for a province): "95.65 % at 17:30". `province` NULL = the nation.
-- Withdrawn records stay (for the audit trail) but are shown nowhere.
CREATE TABLE official_figures (
    id           bigserial PRIMARY KEY,
    province     text REFERENCES provinces,
    as_of        timestamptz NOT NULL,
    turnout_pct  double precision NOT NULL CHECK (turnout_pct >= 0 AND turnout_pct <= 100),
    voted        bigint CHECK (voted >= 0),
    registered   bigint CHECK (registered > 0),
    source       text NOT NULL,
    token_id     bigint REFERENCES tokens,
    actor        text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz
);
CREATE INDEX official_by_scope ON official_figures (province, as_of DESC) WHERE withdrawn_at IS NULL;

-- A bureau's photo, re-encoded as JPEG without metadata (EXIF, GPS, ICC) before it is stored.
-- Only `approved` photos are ever served to the public.
CREATE TABLE photos (
    id           bigserial PRIMARY KEY,
    province     text NOT NULL REFERENCES provinces,
    caption      text NOT NULL,
    jpeg         bytea NOT NULL,
    width        int NOT NULL,
    height       int NOT NULL,
    token_id     bigint REFERENCES tokens,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reviewed_by  bigint REFERENCES tokens,
    reviewer     text,
    reviewed_at  timestamptz
);
CREATE INDEX photos_by_status ON photos (status, id DESC);
