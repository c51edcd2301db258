"""北京市纪委市监委网站: 巡视巡察反馈."""

from crawler.mixins import ProfileSpider, TrsListMixin


class BeijingSpider(TrsListMixin, ProfileSpider):
    name = "beijing"
    profile_name = "beijing"
