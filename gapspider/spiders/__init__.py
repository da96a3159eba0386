"""Scrapy spiders of the project (one: `gap`)."""
