"""Sources: turn targets (paths) into one Inventory. They only parse; they never judge."""
