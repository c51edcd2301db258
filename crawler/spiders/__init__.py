"""One spider per site profile (``sites/<name>.yaml``), built from the profile:
named after it, on the mixin of its CMS family and, for a site with a
``search``, the WAS5 search mixin (``crawler.mixins.spider_class``).  Scrapy
finds them here through ``SPIDER_MODULES``: a new profile is a new spider."""

from crawler.discovery import discovery_spider_class
from crawler.mixins import spider_class
from sites import load_profiles


def _spider(profile):
    # A site file with ``discover: true`` names no (or not every) inspection column:
    # its spider finds them from the home page (crawler/discovery.py).
    make = discovery_spider_class if profile.settings.get("discover") else spider_class
    return make(profile, module=__name__)


globals().update((spider.__name__, spider) for spider in map(_spider, load_profiles()))
