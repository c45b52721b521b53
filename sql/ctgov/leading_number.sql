-- Purpose: The number a text starts with, read as AACT's loader reads text into a numeric
--   column (Ruby's String#to_f / #to_d): leading spaces, a sign, digits, a fraction and an
--   exponent; what follows is ignored ('0.05 (two-sided)' gives 0.05), and a text that starts
--   with no number gives 0, as in AACT. Null for null or blank text. Use:
--   ctgov.leading_number(p_value_raw).
-- Grain: one number per text.
-- Parameters: text
case when trim(text) <> ''
     then coalesce(try_cast(regexp_extract(text, '^\s*([+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?)', 1) as double), 0) end
