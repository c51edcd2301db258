"""人民网 时政: disclosures republished by people.com.cn."""

from crawler.mixins import ProfileSpider


class PeopleSpider(ProfileSpider):
    name = "people"
    profile_name = "people"
