-- Thumbnails of finished downloads (<state_dir>/thumbnails/<id>.jpg and <id>-sprite.jpg): one
-- row per download whose thumbnails were tried, so the gallery lists which exist without
-- touching the disk and `vfetchctl thumbnails --missing` finds those never made or failed.
CREATE TABLE thumbnails (
    download_id   INTEGER PRIMARY KEY REFERENCES downloads (id) ON DELETE CASCADE,
    poster        INTEGER NOT NULL,  -- 1 when the poster exists
    sprite_frames INTEGER,           -- frames in the sprite (one row), NULL without a sprite
    error         TEXT,              -- why the last try failed, NULL after a success
    made_at       INTEGER NOT NULL   -- ms since epoch
);
-- The gallery pages the library newest first by id (keyset, no OFFSET); with only finished
-- downloads in this index a page is one short range scan however many failed rows exist.
CREATE INDEX downloads_library ON downloads (id) WHERE state = 'done';
