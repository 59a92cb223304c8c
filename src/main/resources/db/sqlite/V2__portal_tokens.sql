-- OAuth token pairs, one per portal (its URL, e.g. https://yourcompany.bitrix24.ru). Bitrix24 rotates the refresh
-- token on every refresh, so the pair kept here is the only one that still works. Instants are epoch milliseconds.
CREATE TABLE portal_tokens (
  portal        TEXT PRIMARY KEY,
  access_token  TEXT,
  refresh_token TEXT NOT NULL,
  expires_at    INTEGER,
  updated_at    INTEGER NOT NULL
);
