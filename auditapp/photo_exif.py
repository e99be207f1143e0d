"""What a photo's EXIF says about when and where it was taken, for the reviewer.

Cameras write this loosely: placeholders for unknown times, offsets in their own
field, 0/0 for "no GPS fix", rationals that divide by zero. Each reader returns None
for anything it cannot trust; a broken EXIF never stops the photo itself.

A capture time is only taken from FIRST_YEAR to LAST_YEAR: a camera whose clock was
never set writes "0001:01:01" or "9999:12:31", and such a time, read in a store's time
zone, does not even fit in a datetime.
"""

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from PIL import ExifTags, Image

FIRST_YEAR = 1990  # before digital cameras wrote EXIF
LAST_YEAR = 2100


def capture_time(exif: Image.Exif) -> datetime | None:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    pairs = (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
    )
    for stamp_tag, offset_tag in pairs:
        moment = _exif_datetime(details.get(stamp_tag), details.get(offset_tag))
        if moment is not None:
            return moment
    return None


def _exif_datetime(stamp: Any, offset: Any) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None  # a clock that was never set
    zone = _exif_offset(offset)
    return moment if zone is None else moment.replace(tzinfo=zone).astimezone(UTC)


def _exif_offset(offset: Any) -> timezone | None:
    """EXIF offsets look like "+08:00" or "-05:30"."""
    if not isinstance(offset, str):
        return None
    text = offset.strip("\x00 ")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def gps(exif: Image.Exif) -> tuple[Decimal, Decimal] | None:
    info = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _degrees(info.get(ExifTags.GPS.GPSLatitude), info.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _degrees(
        info.get(ExifTags.GPS.GPSLongitude), info.get(ExifTags.GPS.GPSLongitudeRef)
    )
    if latitude is None or longitude is None:
        return None
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    if latitude == 0 and longitude == 0:
        return None  # cameras write 0/0 when they had no fix
    return latitude, longitude


def _degrees(value: Any, ref: Any) -> Decimal | None:
    """Degrees, minutes, seconds (EXIF rationals) to signed decimal degrees."""
    try:
        degrees, minutes, seconds = (Decimal(str(float(part))) for part in value)
    except (TypeError, ValueError, InvalidOperation, ZeroDivisionError):
        return None
    total = degrees + minutes / 60 + seconds / 3600
    if not total.is_finite():
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() in ("S", "W"):
        total = -total
    return total.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
