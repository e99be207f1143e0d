"""The translated labels of every fixed vocabulary. The stored values live with the
models; a test keeps both lists in step."""

from flask_babel import lazy_gettext as _l

ROLE_CHOICES = [
    ("admin", _l("Admin")),
    ("coordinator", _l("Coordinator")),
    ("reviewer", _l("Reviewer")),
    ("shopper", _l("Shopper")),
    ("regional_manager", _l("Regional manager")),
    ("store_manager", _l("Store manager")),
]
REGION_KIND_CHOICES = [("region", _l("Region")), ("area", _l("Area")), ("district", _l("District"))]
STORE_FORMAT_CHOICES = [
    ("convenience", _l("Convenience store")),
    ("supermarket", _l("Supermarket")),
    ("hypermarket", _l("Hypermarket")),
    ("specialty", _l("Specialty store")),
    ("department_store", _l("Department store")),
    ("restaurant", _l("Restaurant")),
    ("bank_branch", _l("Bank branch")),
    ("service_centre", _l("Service centre")),
]
OWNERSHIP_CHOICES = [
    ("direct", _l("Directly operated")),
    ("franchise", _l("Franchise")),
    ("managed", _l("Managed")),
]
TIER_CHOICES = [("A", _l("Tier A")), ("B", _l("Tier B")), ("C", _l("Tier C"))]
STORE_STATUS_CHOICES = [("active", _l("Active")), ("closed", _l("Closed"))]
GENDER_CHOICES = [
    ("female", _l("Female")),
    ("male", _l("Male")),
    ("other", _l("Other")),
    ("undisclosed", _l("Not stated")),
]
WEEKDAY_CHOICES = [
    ("mon", _l("Monday")),
    ("tue", _l("Tuesday")),
    ("wed", _l("Wednesday")),
    ("thu", _l("Thursday")),
    ("fri", _l("Friday")),
    ("sat", _l("Saturday")),
    ("sun", _l("Sunday")),
]
AGE_BAND_CHOICES = [(b, b) for b in ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")]

VOCABULARIES = {
    "role": ROLE_CHOICES,
    "region_kind": REGION_KIND_CHOICES,
    "format": STORE_FORMAT_CHOICES,
    "ownership": OWNERSHIP_CHOICES,
    "tier": TIER_CHOICES,
    "store_status": STORE_STATUS_CHOICES,
    "gender": GENDER_CHOICES,
    "weekday": WEEKDAY_CHOICES,
}


def label(vocabulary: str, value: str | None) -> str:
    for known, text in VOCABULARIES[vocabulary]:
        if known == value:
            return str(text)
    return value or ""
