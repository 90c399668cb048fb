-- Every decided transaction, approved or declined. The primary key makes a
-- repeated transaction id return the first decision. The card is stored
-- masked (last four digits) only, never in clear.
-- No foreign key to merchants: a transaction for an unknown merchant is
-- recorded (declined) too.
CREATE TABLE IF NOT EXISTS transactions (
  transaction_id CHAR(36) NOT NULL,
  merchant_id VARCHAR(64) NOT NULL,
  amount DECIMAL(19, 4) NOT NULL,
  currency CHAR(3) NOT NULL,
  card_masked VARCHAR(19) NOT NULL,
  client_timestamp DATETIME(6) NOT NULL,
  decision VARCHAR(16) NOT NULL,
  reasons JSON NOT NULL,
  decided_at DATETIME(6) NOT NULL,
  PRIMARY KEY (transaction_id),
  -- The daily-limit sum reads (merchant, decision, day range) on every request.
  KEY transactions_merchant_decided (merchant_id, decision, decided_at),
  CONSTRAINT transactions_decision_chk CHECK (decision IN ('APPROVED', 'DECLINED')),
  CONSTRAINT transactions_amount_chk CHECK (amount > 0),
  CONSTRAINT transactions_card_masked_chk CHECK (card_masked REGEXP '^[*]+[0-9]{4}$')
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
