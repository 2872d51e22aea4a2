-- Each audit summary as a code and values for the pages (docs/DESIGN.md#languages), JSON;
-- NULL for entries written before, which the pages show in English.
ALTER TABLE audit_log ADD COLUMN summary_words TEXT;
