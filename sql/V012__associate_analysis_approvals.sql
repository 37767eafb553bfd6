-- Associate (convoy) analysis over more than the profile's window needs a supervisor's prior approval,
-- recorded like the others.
SET LOCAL ROLE alpr_owner;

ALTER TABLE alpr.scope_approvals DROP CONSTRAINT scope_approvals_function_name_check;
ALTER TABLE alpr.scope_approvals ADD CONSTRAINT scope_approvals_function_name_check
    CHECK (function_name IN ('search_plates', 'canvass', 'budget', 'search_deleted', 'associates'));
