-- Merchants the validator accepts transactions for. The status and the daily
-- limit (in the merchant's settlement currency) gate every approval.
-- Re-runnable: MySQL commits DDL implicitly, so a retried run must converge.
CREATE TABLE IF NOT EXISTS merchants (
  merchant_id VARCHAR(64) NOT NULL,
  display_name VARCHAR(255) NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'ACTIVE',
  currency CHAR(3) NOT NULL,
  daily_limit DECIMAL(19, 4) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (merchant_id),
  CONSTRAINT merchants_status_chk CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CLOSED')),
  CONSTRAINT merchants_daily_limit_chk CHECK (daily_limit >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
