"""Item pipelines of the gap spider: listing rows, saved product pages, product images."""
