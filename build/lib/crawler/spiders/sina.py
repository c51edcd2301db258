"""新浪财经: disclosures republished in the domestic finance roll."""

from crawler.mixins import ProfileSpider


class SinaSpider(ProfileSpider):
    name = "sina"
    profile_name = "sina"
