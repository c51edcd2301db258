"""南粤清风网: 省委巡视 → 巡视整改."""

from crawler.mixins import GovCloudListMixin, ProfileSpider


class GuangdongSpider(GovCloudListMixin, ProfileSpider):
    name = "guangdong"
    profile_name = "guangdong"
