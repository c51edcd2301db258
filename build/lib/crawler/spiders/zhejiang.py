"""清廉浙江: 巡视巡察 (GBK pages)."""

from crawler.mixins import ProfileSpider, TrsListMixin


class ZhejiangSpider(TrsListMixin, ProfileSpider):
    name = "zhejiang"
    profile_name = "zhejiang"
