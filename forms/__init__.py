"""WTForms classes per area, shared input parsers, and the checklist form builder."""
