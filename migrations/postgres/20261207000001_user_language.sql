-- The language each user chose for the pages (docs/DESIGN.md#languages): 'en' or 'fr';
-- NULL until they choose, when the browser's language applies.
ALTER TABLE users ADD COLUMN language TEXT CHECK (language IN ('en', 'fr'));
