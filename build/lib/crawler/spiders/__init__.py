"""One thin spider per site: a name, a profile and the mixin of its CMS family
(see crawler/mixins.py).  Scrapy finds them through ``SPIDER_MODULES``."""
