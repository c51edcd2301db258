"""重庆市纪委监委网站: 巡视巡察."""

from crawler.mixins import HanwebListMixin, ProfileSpider


class ChongqingSpider(HanwebListMixin, ProfileSpider):
    name = "chongqing"
    profile_name = "chongqing"
