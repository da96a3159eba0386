"""gapspider: fetch Gap Factory category pages, product pages and images into a database and a SQL file."""

from setuptools import find_packages, setup

setup(
    name="gapspider",
    version="0.1.0",
    description=__doc__,
    python_requires=">=3.11",
    packages=find_packages(include=["gapspider", "gapspider.*", "pipelines", "pipelines.*", "dashboard", "dashboard.*"]),
    include_package_data=True,
    package_data={
        "gapspider": ["migrations/*.py", "migrations/*.mako", "migrations/versions/*.py", "parsing/*.md"],
        "dashboard": ["templates/**/*", "static/**/*"],
    },
    entry_points={
        "console_scripts": ["gapspider = gapspider.cli:main"],
        # scrapyd-deploy builds an egg; scrapyd finds the project's settings through this entry point.
        "scrapy": ["settings = gapspider.settings"],
    },
)
