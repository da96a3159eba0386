"""`scrapy crawl`, with an exit status scripts and schedulers can trust.

Scrapy's own command exits 0 whatever happened to the fetch. This one exits 0 when the fetch succeeded,
1 when it ended failed (listing failed, blocked, cancelled...), 2 when the spider refused to start
(unknown group or fetch, a group without pages, a fetch already running). Spiders without an
`exit_status` attribute keep Scrapy's behaviour.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCrawlCommand):
    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError(
                "running 'scrapy crawl' with more than one spider is not supported" if args else ""
            )
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        status = getattr(crawler.spider, "exit_status", None)
        if status:
            self.exitcode = status
