-- The idempotency fingerprint next to each decision (tap/fingerprint.py):
-- a reused transaction id replays only for the same request, else 409.
--   request_fingerprint: SHA-256 hex of the canonical request (no secret in it)
--   card_fingerprint:    "<key id>:<HMAC-SHA256 hex>" of the PAN, keyed; NULL
--                        when no key was configured. Never the PAN itself.
-- NULL for rows recorded before this migration; the validator recomputes the
-- request part from the row's own columns then.
--
-- Re-runnable on Aurora MySQL 3 (MySQL 8.0 has no ADD COLUMN IF NOT EXISTS):
-- the ALTER runs only when neither column exists yet. Nullable columns at the
-- end of the table are added in place (ALGORITHM=INSTANT on MySQL 8.0); a
-- CHECK constraint would make MySQL copy the whole table, so there is none.
SET @tap_ddl = IF(
  (SELECT COUNT(*) FROM information_schema.columns
    WHERE table_schema = DATABASE() AND table_name = 'transactions'
      AND column_name IN ('request_fingerprint', 'card_fingerprint')) = 0,
  'ALTER TABLE transactions ADD COLUMN request_fingerprint CHAR(64) NULL, ADD COLUMN card_fingerprint VARCHAR(80) NULL',
  'DO 0'
);
PREPARE tap_migration FROM @tap_ddl;
EXECUTE tap_migration;
DEALLOCATE PREPARE tap_migration;
