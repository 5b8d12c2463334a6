"""The public schema, as numbered migrations. Never edit a shipped migration: add one."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the ingest spine
    """
    CREATE TABLE outlets (
        id          VARCHAR PRIMARY KEY,
        name        VARCHAR NOT NULL,
        homepage    VARCHAR NOT NULL,
        language    VARCHAR,
        updated_at  TIMESTAMPTZ
    );
    CREATE TABLE articles (
        id                VARCHAR PRIMARY KEY,
        outlet_id         VARCHAR NOT NULL,
        url               VARCHAR NOT NULL,
        canonical_url     VARCHAR NOT NULL,
        title             VARCHAR,
        authors           VARCHAR[],
        published_at      TIMESTAMPTZ,
        date_source       VARCHAR,
        fetched_at        TIMESTAMPTZ NOT NULL,
        language          VARCHAR,
        description       VARCHAR,
        tags              VARCHAR[],
        sitename          VARCHAR,
        text              VARCHAR NOT NULL,
        word_count        INTEGER NOT NULL,
        content_hash      VARCHAR NOT NULL,
        extractor_version VARCHAR NOT NULL,
        discovered_via    VARCHAR,
        run_id            VARCHAR
    );
    CREATE TABLE article_urls (
        url_key     VARCHAR PRIMARY KEY,
        article_id  VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL
    );
    CREATE TABLE fetches (
        run_id      VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        url         VARCHAR NOT NULL,
        final_url   VARCHAR,
        status      INTEGER,
        bytes       BIGINT NOT NULL,
        elapsed_ms  DOUBLE NOT NULL,
        fetched_at  TIMESTAMPTZ NOT NULL,
        error       VARCHAR
    );
    CREATE TABLE runs (
        run_id      VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL,
        started_at  TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        discovered  INTEGER NOT NULL,
        fetched     INTEGER NOT NULL,
        stored      INTEGER NOT NULL,
        skipped     INTEGER NOT NULL,
        failed      INTEGER NOT NULL,
        status      VARCHAR NOT NULL,
        error       VARCHAR,
        PRIMARY KEY (run_id, outlet_id)
    );
    CREATE TABLE sources (
        url           VARCHAR PRIMARY KEY,
        outlet_id     VARCHAR NOT NULL,
        kind          VARCHAR NOT NULL,
        origin        VARCHAR NOT NULL,
        etag          VARCHAR,
        last_modified VARCHAR,
        body_hash     VARCHAR,
        last_status   INTEGER,
        last_error    VARCHAR,
        last_checked  TIMESTAMPTZ,
        last_changed  TIMESTAMPTZ
    );
    """,
    # 2: deduplication. The LSH index itself is a memory-mapped file next to the database
    # (storage/story_index.py), derived from article_fingerprints and rebuilt from it.
    """
    ALTER TABLE articles ADD COLUMN story_id VARCHAR;
    ALTER TABLE articles ADD COLUMN duplicate_of VARCHAR;
    CREATE SEQUENCE fingerprint_seq START 1;
    CREATE TABLE article_fingerprints (
        seq          INTEGER PRIMARY KEY,
        article_id   VARCHAR NOT NULL,
        outlet_id    VARCHAR NOT NULL,
        story_id     VARCHAR NOT NULL,
        content_key  UBIGINT NOT NULL,
        minhash      UINTEGER[] NOT NULL,
        shingles     INTEGER NOT NULL,
        band_keys    UBIGINT[] NOT NULL,
        lead_keys    UBIGINT[] NOT NULL,
        snippet      BOOLEAN NOT NULL
    );
    CREATE TABLE story_merges (
        old_story   VARCHAR PRIMARY KEY,
        new_story   VARCHAR NOT NULL
    );
    CREATE VIEW stories AS
        SELECT story_id,
               min(fetched_at) AS first_seen,
               min(published_at) AS first_published,
               arg_min(title, fetched_at) AS title,
               list(DISTINCT outlet_id ORDER BY outlet_id) AS outlets,
               count(*) AS copies
        FROM articles
        WHERE story_id IS NOT NULL
        GROUP BY story_id;
    """,
    # 3: topics and alerts (an outbox: delivery state per alert and channel)
    """
    CREATE TABLE article_topics (
        article_id      VARCHAR NOT NULL,
        rule_id         VARCHAR NOT NULL,
        matched         BOOLEAN NOT NULL,
        score           DOUBLE NOT NULL,
        terms           VARCHAR[] NOT NULL,
        rule_signature  VARCHAR NOT NULL,
        scored_at       TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (article_id, rule_id)
    );
    CREATE TABLE alerts (
        alert_id      VARCHAR PRIMARY KEY,
        rule_id       VARCHAR NOT NULL,
        story_id      VARCHAR NOT NULL,
        article_id    VARCHAR NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        title         VARCHAR,
        outlet_id     VARCHAR,
        url           VARCHAR,
        published_at  TIMESTAMPTZ,
        score         DOUBLE,
        terms         VARCHAR[],
        UNIQUE (rule_id, story_id)
    );
    CREATE TABLE alert_deliveries (
        alert_id         VARCHAR NOT NULL,
        channel          VARCHAR NOT NULL,
        channel_label    VARCHAR NOT NULL,
        state            VARCHAR NOT NULL,
        attempts         INTEGER NOT NULL,
        next_attempt_at  TIMESTAMPTZ NOT NULL,
        last_error       VARCHAR,
        sent_at          TIMESTAMPTZ,
        PRIMARY KEY (alert_id, channel)
    );
    """,
    # 4: scheduled operation. Per-run yield counts feed source health; outlet_polls holds the
    # adaptive polling and backoff state; outlet_health the last known state per outlet and
    # health_events each change of state (and whether its notification went out).
    """
    ALTER TABLE runs ADD COLUMN extracted INTEGER;  -- NULL for runs before this migration
    ALTER TABLE runs ADD COLUMN dated INTEGER;
    CREATE TABLE outlet_polls (
        outlet_id       VARCHAR PRIMARY KEY,
        interval_s      DOUBLE NOT NULL,
        next_due_at     TIMESTAMPTZ NOT NULL,
        failures        INTEGER NOT NULL,
        last_polled_at  TIMESTAMPTZ,
        reason          VARCHAR
    );
    CREATE TABLE outlet_health (
        outlet_id   VARCHAR PRIMARY KEY,
        state       VARCHAR NOT NULL,
        since       TIMESTAMPTZ NOT NULL,
        reason      VARCHAR,
        checked_at  TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE health_events (
        event_id     VARCHAR PRIMARY KEY,
        outlet_id    VARCHAR NOT NULL,
        changed_at   TIMESTAMPTZ NOT NULL,
        old_state    VARCHAR,
        new_state    VARCHAR NOT NULL,
        reason       VARCHAR,
        attempts     INTEGER NOT NULL DEFAULT 0,
        claimed_at   TIMESTAMPTZ,
        notified_at  TIMESTAMPTZ,
        last_error   VARCHAR
    );
    """,
    # 5: article URLs that failed (no article text, HTTP errors): retried after 1 h, 4 h, 16 h,
    # a day, then no more, instead of on every poll.
    """
    CREATE TABLE url_failures (
        url_key         VARCHAR PRIMARY KEY,
        outlet_id       VARCHAR NOT NULL,
        url             VARCHAR NOT NULL,
        reason          VARCHAR,
        attempts        INTEGER NOT NULL,
        last_failed_at  TIMESTAMPTZ NOT NULL,
        retry_at        TIMESTAMPTZ NOT NULL
    );
    """,
    # 6: failures as data. A kind beside each one-line message, so health and retries branch on
    # the kind, never on the wording; rows from before get the kind their wording meant.
    """
    ALTER TABLE fetches ADD COLUMN error_kind VARCHAR;
    UPDATE fetches SET error_kind = CASE
        WHEN error IS NULL THEN NULL
        WHEN error = 'blocked by robots.txt' THEN 'robots'
        WHEN error LIKE 'HTTP %' THEN 'http-status'
        WHEN error LIKE 'cannot connect: cannot resolve%' THEN 'cannot-resolve'
        WHEN error LIKE 'cannot connect%' THEN 'cannot-connect'
        WHEN error LIKE 'timeout%' THEN 'timeout'
        WHEN error LIKE '%exceeds limit%' THEN 'too-large'
        WHEN error LIKE 'unsupported content%' THEN 'unsupported-type'
        WHEN error = 'binary content' THEN 'binary'
        WHEN error LIKE 'more than % redirects' THEN 'too-many-redirects'
        ELSE 'connection-lost' END;
    ALTER TABLE url_failures ADD COLUMN kind VARCHAR;
    UPDATE url_failures SET kind = CASE
        WHEN reason LIKE 'HTTP %' THEN 'http-status'
        WHEN reason LIKE 'extraction error%' THEN 'internal'
        WHEN reason LIKE 'cannot connect%' THEN 'cannot-connect'
        ELSE 'no-text' END;
    """,
    # 7: the raw archive and history. Each article points at the WARC record it was extracted
    # from; `quiet` articles (backfilled, imported, re-extracted) never start an alert. Revisits
    # keep their state per article and each changed version in article_versions (the first
    # version is written when the first change is found). A backfill keeps its queue, so an
    # interrupted one resumes where it stopped.
    """
    ALTER TABLE articles ADD COLUMN warc_file VARCHAR;
    ALTER TABLE articles ADD COLUMN warc_offset BIGINT;
    ALTER TABLE articles ADD COLUMN quiet BOOLEAN;  -- NULL (rows from before) is not quiet
    CREATE TABLE article_versions (
        article_id   VARCHAR NOT NULL,
        version      INTEGER NOT NULL,
        fetched_at   TIMESTAMPTZ NOT NULL,
        title        VARCHAR,
        text         VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        changed      VARCHAR[] NOT NULL,
        summary      VARCHAR,
        warc_file    VARCHAR,
        warc_offset  BIGINT,
        PRIMARY KEY (article_id, version)
    );
    CREATE TABLE article_revisits (
        article_id   VARCHAR PRIMARY KEY,
        revisits     INTEGER NOT NULL,
        last_visit   TIMESTAMPTZ NOT NULL,
        etag         VARCHAR,
        last_modified VARCHAR
    );
    CREATE TABLE backfills (
        outlet_id    VARCHAR NOT NULL,
        since        DATE NOT NULL,
        until        DATE NOT NULL,
        started_at   TIMESTAMPTZ NOT NULL,
        discovered_at TIMESTAMPTZ,
        finished_at  TIMESTAMPTZ,
        PRIMARY KEY (outlet_id, since, until)
    );
    CREATE TABLE backfill_queue (
        outlet_id    VARCHAR NOT NULL,
        url          VARCHAR NOT NULL,
        via          VARCHAR NOT NULL,
        source_url   VARCHAR,
        title        VARCHAR,
        published_at TIMESTAMPTZ,
        state        VARCHAR NOT NULL,
        PRIMARY KEY (outlet_id, url)
    );
    """,
    # 8: where an article's title, authors and date came from (extractors/headline, byline,
    # dates), and the last update the page states, kept apart from the publication date.
    """
    ALTER TABLE articles ADD COLUMN title_source VARCHAR;
    ALTER TABLE articles ADD COLUMN author_source VARCHAR;
    ALTER TABLE articles ADD COLUMN modified_at TIMESTAMPTZ;
    ALTER TABLE articles ADD COLUMN modified_source VARCHAR;
    """,
    # 9: the keys of each article's paragraphs as extracted (extractors/chrome.py), from which
    # the outlet's recurring page chrome is learned before each pass.
    """
    ALTER TABLE articles ADD COLUMN paragraph_keys VARCHAR[];
    """,
    # 10: full-text search (storage/search_index.py): an inverted index that each pass extends. Terms
    # are Snowball stems (en, ru) or folded words (raw); postings sorted by term in the main
    # table, recent ones in the tail until a merge.
    """
    CREATE TABLE search_docs (
        docid         INTEGER PRIMARY KEY,
        article_id    VARCHAR NOT NULL,  -- one row per article: the index adds only missing ones
        len           INTEGER NOT NULL,
        language      VARCHAR,
        outlet_id     VARCHAR,
        published_at  TIMESTAMPTZ
    );
    CREATE TABLE search_terms (
        analyzer  VARCHAR NOT NULL,
        term      VARCHAR NOT NULL,
        termid    INTEGER NOT NULL,
        df        INTEGER NOT NULL,
        PRIMARY KEY (analyzer, term)
    );
    CREATE TABLE search_postings (termid INTEGER NOT NULL, docid INTEGER NOT NULL, tf INTEGER NOT NULL);
    CREATE TABLE search_tail (termid INTEGER NOT NULL, docid INTEGER NOT NULL, tf INTEGER NOT NULL);
    """,
]
