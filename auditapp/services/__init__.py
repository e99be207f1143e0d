"""State changes. Plain functions that take model objects and validated data; the
view commits once, at the end of the request."""
