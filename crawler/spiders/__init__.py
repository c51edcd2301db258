"""One spider per site profile (``sites/<name>.yaml``), built from the profile:
named after it, on the mixin of its CMS family and, for a site with a
``search``, the WAS5 search mixin (``crawler.mixins.spider_class``).  Scrapy
finds them here through ``SPIDER_MODULES``: a new profile is a new spider."""

from crawler.mixins import spider_class
from sites import load_profiles

globals().update(
    (spider.__name__, spider) for spider in (spider_class(profile, module=__name__) for profile in load_profiles())
)
