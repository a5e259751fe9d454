"""`wormsign fix`: from a report's advisory findings to the edits that clear them."""
