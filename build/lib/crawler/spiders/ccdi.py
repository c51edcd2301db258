"""中央纪委国家监委网站: 巡视巡察 columns, 要闻 (disclosures only) and the site search."""

from crawler.mixins import ProfileSpider, TrsListMixin, Was5SearchMixin


class CcdiSpider(Was5SearchMixin, TrsListMixin, ProfileSpider):
    name = "ccdi"
    profile_name = "ccdi"
