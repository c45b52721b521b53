-- Purpose: AACT's integer surrogate ids (id, design_group_id, intervention_id, facility_id, ...),
--   computed from the study's content instead of a load's sequence: the NCT number times 10^10
--   plus the row's 1-based ordinal within its study, in the order AACT's loader inserts a study's
--   rows. The same study content gives the same ids in every build, full or incremental; ids are
--   unique per view, and other studies never move them. Use: ctgov.aact_id(nct_id, ordinal).
-- Grain: one id per row of a ctgov view (a study and an ordinal below 10^10).
-- Parameters: nct_id, ordinal
try_cast(substr(nct_id, 4) as bigint) * 10000000000 + ordinal
