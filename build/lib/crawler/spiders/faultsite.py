"""The fault site of the test mirror (crawler/mirror/faults.py): 巡视巡察."""

from crawler.mixins import ProfileSpider, TrsListMixin


class FaultsiteSpider(TrsListMixin, ProfileSpider):
    name = "faultsite"
    profile_name = "faultsite"
