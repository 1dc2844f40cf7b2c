"""Controllers: what the bridge does for one role (listing, transfers), on its engine."""
