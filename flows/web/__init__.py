"""`newsmon web`: the analyst's desk, a read-only web app over the store."""
