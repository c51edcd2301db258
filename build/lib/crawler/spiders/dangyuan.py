"""共产党员网 (12371.cn): 巡视工作 topic page."""

from crawler.mixins import ProfileSpider


class DangyuanSpider(ProfileSpider):
    name = "dangyuan"
    profile_name = "dangyuan"
